"""What a refund costs the database: a fixed, short list of statements (bench_exchanges measures the rest).

Real transactions here (transaction=True): inside a test's own transaction every atomic block would be a
savepoint, and the savepoints a refund no longer opens could not be told from the test's.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchanges.models import Redemption, RedemptionTicket
from tests.exchanges.conftest import TICKET_A, TICKET_B, Calls, booking, client_of, give_points, partner_named
from tests.factories import MembershipFactory

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def captured(calls, payer):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    calls.post(f"{BASE}/redemptions/{redemption['id']}/capture/")
    return redemption["id"]


def statements(calls, url, body, key):
    with CaptureQueriesContext(connection) as queries:
        response = calls.post(url, body, key=key)
    return response, [" ".join(q["sql"].split()) for q in queries.captured_queries]


def test_a_first_refund_opens_no_savepoint_and_locks_the_booking_and_its_tickets_in_one_statement(
    calls, payer, captured
):
    url, body = f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": payer.membership_number}
    response, sql = statements(calls, url, body, "refund-1")
    assert response.status_code == 201
    assert not [s for s in sql if "SAVEPOINT" in s]
    assert len([s for s in sql if "FOR UPDATE" in s]) == 1
    # The token, with the answer kept for the key (none yet); then, in one transaction, the key's lock, the
    # booking locked with its tickets, the booking's state with its log row, the refund activity with its
    # entries, its tickets' refunded points and the operation, and the key's answer, which carries the COMMIT.
    # (Django logs its own commit after it: psycopg finds the transaction committed and sends nothing.)
    assert "knox_authtoken" in sql[0] and "loyalty_idempotencykey" in sql[0], sql
    assert sql[1] == "BEGIN" and sql[-2].endswith("; COMMIT") and sql[-1] == "COMMIT" and len(sql) == 7, sql
    change = sql[-3]
    for written in ("exchanges_redemption", "loyalty_activity", "loyalty_ledgerentry", "exchanges_redemptionticket",
                    "exchanges_pointsoperation"):  # fmt: skip
        assert f'INSERT INTO "{written}"' in change or f'UPDATE "{written}"' in change, written
    assert not [s for s in sql if s.startswith('WITH a AS (INSERT INTO "loyalty_activity"')]


def test_the_refund_operation_names_the_activity_posted_with_it(calls, payer, captured):
    from exchanges.models import PointsOperation

    url, body = f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": payer.membership_number}
    assert calls.post(url, body, key="refund-1").status_code == 201
    operation = PointsOperation.objects.get(redemption_id=captured, kind="refund")
    activity = operation.activity
    assert (activity.kind, activity.external_reference) == ("refund", f"redemption:{captured}:1")
    assert sum(e.quantity for e in activity.entries.all()) == operation.points > 0


def copy_of(redemption, **changes):
    copy = Redemption(**{f.attname: getattr(redemption, f.attname) for f in Redemption._meta.concrete_fields})
    copy.pk = None
    for name, value in changes.items():
        setattr(copy, name, value)
    return copy


def test_a_refund_s_statements_are_planned_once_for_all_refunds(calls, payer):
    # psycopg prepares a statement at its 5th run; PostgreSQL then plans it afresh for 5 more runs, and keeps
    # a plan for all later runs only when that plan is not dearer than theirs: the booking's change of state,
    # with everything written along, was planned again on every refund while its tickets' update guessed at
    # an array's length.
    give_points(payer, 200_000)
    # Tables of a real size (thousands of bookings of two tickets each), so that the planner weighs its plans
    # as it would in production.
    someone_else = MembershipFactory(program=payer.program)
    template = Redemption.objects.get(pk=calls.post(f"{BASE}/redemptions/", booking(payer, pnr="MANY00")).data["id"])
    copies = Redemption.objects.bulk_create(
        copy_of(template, pnr=f"M{n:05d}", membership=someone_else) for n in range(5_000)
    )
    RedemptionTicket.objects.bulk_create(
        RedemptionTicket(redemption=r, ticket_number=n, points=1) for r in copies for n in (TICKET_A, TICKET_B)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE exchanges_redemption, exchanges_redemptionticket")
    for n in range(13):
        redemption = calls.post(f"{BASE}/redemptions/", booking(payer, pnr=f"PLAN{n:02d}")).data["id"]
        calls.post(f"{BASE}/redemptions/{redemption}/capture/")
        body = {"membership_number": payer.membership_number, "ticket_numbers": [TICKET_A]}
        assert calls.post(f"{BASE}/redemptions/{redemption}/refunds/", body).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        plans = {" ".join(statement.split()): (generic, custom) for statement, generic, custom in cursor.fetchall()}
    change = [plan for statement, plan in plans.items() if statement.startswith('WITH changed AS (UPDATE "exchanges_')
              and '"exchanges_redemptionticket"' in statement]
    assert len(change) == 1 and change[0][0] > 0, plans
    assert all(generic > 0 for generic, custom in plans.values() if generic + custom > 5), [
        (s[:200], p) for s, p in plans.items() if p[0] == 0 and sum(p) > 5
    ]


def test_a_replay_is_answered_by_the_token_s_read_without_a_transaction(calls, payer, captured):
    url, body = f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": payer.membership_number}
    first = calls.post(url, body, key="refund-1")
    again, sql = statements(calls, url, body, "refund-1")
    assert again.status_code == first.status_code == 201 and again.json() == first.json()
    # The token and the answer kept for its key, in one statement.
    assert len(sql) == 1 and "knox_authtoken" in sql[0] and "loyalty_idempotencykey" in sql[0], sql
    assert "pg_try_advisory_xact_lock" not in sql[0]


def test_a_refused_refund_is_kept_and_replayed_and_changes_nothing(calls, payer, captured):
    url = f"{BASE}/redemptions/{captured}/refunds/"
    body = {"membership_number": payer.membership_number, "points": 999_999}
    first = calls.post(url, body, key="too-much")
    again, sql = statements(calls, url, body, "too-much")
    assert first.status_code == again.status_code == 422 and first.data["code"] == "over_refund"
    assert again.data == first.data and len(sql) == 1


def _indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def _fillfactor(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0] or []


def test_a_refund_can_rewrite_the_booking_in_place_without_touching_its_indexes(captured, calls, payer):
    # No index names what a refund changes (status, points refunded, refund count), and the pages keep room:
    # PostgreSQL then updates the row in place (HOT) and adds no entry to the booking's indexes.
    for table, changed in (("exchanges_redemption", ("status", "points_refunded", "refund_count")),
                           ("exchanges_redemptionticket", ("points_refunded",))):  # fmt: skip
        for name, definition in _indexes(table).items():
            assert not any(column in definition for column in changed), (name, definition)
        assert "fillfactor=80" in _fillfactor(table)


def test_an_idempotency_key_writes_no_index_of_its_own_for_its_user(db):
    assert [name for name, definition in _indexes("loyalty_idempotencykey").items() if "(user_id)" in definition] == []


def test_the_answer_read_with_the_token_is_the_caller_s_own(calls, payer, captured, program):
    # Another partner sending the same key and body has a key of its own: no answer of the first is its.
    url, body = f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": payer.membership_number}
    assert calls.post(url, body, key="shared-key").status_code == 201
    theirs = Calls(client_of(partner_named("other-engine", program))).post(url, body, key="shared-key")
    assert theirs.status_code == 404 and theirs.json()["code"] == "unknown_redemption"
