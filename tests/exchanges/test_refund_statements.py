"""What a refund costs the database: a fixed, short list of statements (bench_exchanges measures the rest).

Real transactions here (transaction=True): inside a test's own transaction every atomic block would be a
savepoint, and the savepoints a refund no longer opens could not be told from the test's.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.exchanges.conftest import Calls, booking, client_of, partner_named

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
    # booking locked with its tickets, the refund activity with its entries, the booking's state with its log
    # row, its tickets' refunded points and the operation, and the key's answer, which carries the COMMIT.
    # (Django logs its own commit after it: psycopg finds the transaction committed and sends nothing.)
    assert "knox_authtoken" in sql[0] and "loyalty_idempotencykey" in sql[0], sql
    assert sql[1] == "BEGIN" and sql[-2].endswith("; COMMIT") and sql[-1] == "COMMIT" and len(sql) == 8, sql
    change = sql[-3]
    assert "exchanges_redemptionticket" in change and "INSERT INTO \"exchanges_pointsoperation\"" in change


def test_a_replay_is_answered_by_the_token_s_read_without_a_transaction(calls, payer, captured):
    url, body = f"{BASE}/redemptions/{captured}/refunds/", {"membership_number": payer.membership_number}
    first = calls.post(url, body, key="refund-1")
    again, sql = statements(calls, url, body, "refund-1")
    assert again.status_code == first.status_code == 201 and again.data == first.data
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
