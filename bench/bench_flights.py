"""Airline flight claims at scale: the feed's import, the ticket search, the approval queue and bulk approval.

With 1,000,000 flights in the feed (imported by `import_flights` from a CSV generated once under
bench/.cache/) and 100,000 pending flight claims (loaded with COPY), each figure is printed beside
its floor measured in the same run:

- the flight import against a raw COPY of the same file into a table with the same indexes (>= 0.5×);
- the ticket search (retro.flights.services.find_coupons) against a bare indexed SELECT through psycopg
  (p95 within 5×);
- the Flights Approval page (50 rows, filtered, dashboard included) through Django's test client as a
  signed-in supervisor (p95 < 100 ms, a fixed number of queries);
- approving 500 claims through the decision service, each posting its Flight Activity (>= 200/s).
"""

import csv
import datetime as dt
import io
import os
import random
import statistics
import sys
import time

import _setup
from _setup import ROOT, django_on_bench_db, report, timed

FLIGHTS = int(os.environ.get("BENCH_FLIGHTS", "1000000"))
PENDING = int(os.environ.get("BENCH_FLIGHT_CLAIMS", "100000"))
MEMBERS = 20_000
APPROVALS = 500
SAMPLES = 200
CACHE = ROOT / "bench" / ".cache"
PROGRAM_CODE = "benchair"
RAW_TABLE = "bench_raw_flights"
AIRPORTS = ["JFK", "LGA", "EWR", "BOS", "LHR", "CDG", "FRA", "AMS", "MAD", "FCO", "ORD", "LAX", "SFO", "MIA", "YYZ"]
# The feed's columns, in retro.sql.FLIGHT_ROW_FIELDS order.
COLUMNS = (
    "ticket_number coupon_number pnr operating_carrier marketing_carrier flight_number flight_date origin "
    "destination cabin booking_class passenger_name distance flown"
).split()
SURNAMES = ["SMITH", "JOHNSON", "MARTIN", "DUPONT", "MULLER", "ROSSI", "GARCIA", "NGUYEN", "KOWALSKI", "OBRIEN"]
GIVEN = ["JOHN", "MARY", "ANNA", "PIERRE", "JUAN", "SOFIA", "LUCA", "EMMA", "NOAH", "MIA"]


def ticket(n):
    return f"057{n:010d}"


def generate_csv(path, today):
    rng = random.Random(57)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for n in range(FLIGHTS):
            origin, destination = rng.sample(AIRPORTS, 2)
            name = f"{rng.choice(SURNAMES)}/{rng.choice(GIVEN)} {rng.choice(['MR', 'MRS', 'MS'])}"
            writer.writerow([
                ticket(n // 2), 1 + n % 2, f"{rng.randrange(36**6):06X}"[:6], "SW", "SW", rng.randint(100, 2999),
                (today - dt.timedelta(days=8 + rng.randrange(170))).isoformat(), origin, destination,
                rng.choice(["Economy", "Business"]), rng.choice("YBMHJC"), name, rng.randint(150, 6000), "yes",
            ])  # fmt: skip


def ensure_program():
    from loyalty.models import EarningRule, EarningRuleSet, Program
    from retro.models import FlightSettings

    program, _ = Program.objects.get_or_create(
        code=PROGRAM_CODE,
        defaults={"name": "Bench Air", "kind": "airline", "currency_name": "Miles", "time_zone": "America/New_York"},
    )
    FlightSettings.objects.get_or_create(program=program, defaults={"airline_code": "057"})
    if not program.rule_sets.exists():
        rules = EarningRuleSet.objects.create(program=program, name="Miles", valid_from=dt.date(2020, 1, 1))
        distance = EarningRule.Calculation.DISTANCE
        EarningRule.objects.create(
            rule_set=rules, name="Distance", activity_kind="flight", calculation=distance, class_multipliers={"J": 2}
        )
    return program


def import_feed(path, program):
    from django.core.management import call_command

    from retro.models import Flight

    with timed() as took:
        call_command("import_flights", str(path), "--program", PROGRAM_CODE, "--no-progress",
                     "--errors", str(CACHE / "flights_errors.csv"), stdout=io.StringIO())  # fmt: skip
    seconds = took()
    count = Flight.objects.filter(program=program).count()
    assert count == FLIGHTS, f"imported {count} of {FLIGHTS} flights"
    return seconds


def raw_copy_seconds(path):
    from django.db import connection

    from retro.models import Flight

    table = Flight._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        like = "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES INCLUDING CONSTRAINTS"
        cursor.execute(f"CREATE TABLE {RAW_TABLE} (LIKE {table} {like})")
        cursor.execute(f"SELECT count(*) FROM pg_indexes WHERE tablename = '{RAW_TABLE}'")
        indexes = cursor.fetchone()[0]
        started = time.perf_counter()
        with (
            path.open("rb") as source,
            cursor.cursor.copy(
                f"COPY {RAW_TABLE} ({', '.join(COLUMNS)}, program_id, imported_at) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            next(source)  # the header
            for line in source:  # the same values, plus the two columns the import adds to each row
                copy.write(line.rstrip(b"\r\n") + b",1,2026-01-01 00:00:00+00\n")
        seconds = time.perf_counter() - started
        cursor.execute(f"DROP TABLE {RAW_TABLE}")
    return seconds, indexes


def load_members_and_claims(program, today):
    """MEMBERS airline members and PENDING pending claims on the feed's coupons, with COPY."""
    from django.db import connection

    from loyalty.models import Member, Membership
    from retro.models import Flight, FlightClaim

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Member._meta.db_table}")
        first_member = cursor.fetchone()[0] + 1
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Membership._meta.db_table}")
        first_membership = cursor.fetchone()[0] + 1
        with cursor.cursor.copy(f"COPY {Member._meta.db_table} (id, member_number, first_name, last_name, email, "
                                "phone, enrolled_on, status, search_name) FROM STDIN") as copy:  # fmt: skip
            for n in range(MEMBERS):
                copy.write_row((first_member + n, f"BF{first_member + n:09d}", GIVEN[n % 10].title(),
                                SURNAMES[n % 7].title(), "", "", dt.date(2020, 1, 1), "active",
                                f"{GIVEN[n % 10].lower()} {SURNAMES[n % 7].lower()}"))  # fmt: skip
        with cursor.cursor.copy(f"COPY {Membership._meta.db_table} (id, member_id, program_id, membership_number, "
                                "membership_type, card_level, joined_on) FROM STDIN") as copy:  # fmt: skip
            for n in range(MEMBERS):
                copy.write_row((first_membership + n, first_member + n, program.pk, f"BA{first_membership + n:010d}",
                                "Individual", "", dt.date(2020, 1, 1)))  # fmt: skip
        for table in (Member, Membership):
            name = table._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT MAX(id) FROM {name}))")
        rng = random.Random(7)
        flights = Flight._meta.db_table
        cursor.execute(f"SELECT id, ticket_number, coupon_number, flight_date, origin, destination, distance, "
                       f"passenger_name FROM {flights} WHERE program_id = %s ORDER BY id LIMIT %s",
                       [program.pk, PENDING])  # fmt: skip
        rows = cursor.fetchall()
        now = time.time()
        columns = ("number, program_id, membership_id, flight_id, manual_entry, submission, channel, submitted_at, "
                   "ticket_number, coupon_number, carrier, flight_number, flight_date, origin, destination, cabin, "
                   "booking_class, distance, passenger_name, name_match, name_score, name_message, estimated_miles, "
                   "valued_on, note, status, reason, member_message, notifications_sent")  # fmt: skip
        with cursor.cursor.copy(f"COPY {FlightClaim._meta.db_table} ({columns}) FROM STDIN") as copy:
            for n, (flight_id, tkt, coupon, day, origin, destination, distance, name) in enumerate(rows):
                submitted = dt.datetime.fromtimestamp(now - rng.randrange(20 * 86400), dt.UTC)
                match = rng.choice(["match", "match", "match", "near_miss", "mismatch", "missing"])
                copy.write_row((f"FB{n:08d}", program.pk, first_membership + n % MEMBERS, flight_id, False,
                                f"00000000-0000-0000-0000-{n:012d}", "csr", submitted, tkt, coupon, "SW", "101", day,
                                origin, destination, "Economy", "Y", distance, name, match, 80, "", distance, day, "",
                                "pending", "", "", "[]"))  # fmt: skip
        cursor.execute(f"VACUUM ANALYZE {FlightClaim._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {flights}")


def p95(timings):
    return statistics.quantiles(timings, n=20)[18] * 1000


def bench_search(program):
    import psycopg
    from django.db import connection

    from retro.flights.services import find_coupons

    rng = random.Random(3)
    tickets = [ticket(rng.randrange(FLIGHTS // 2)) for _ in range(SAMPLES)]
    for t in tickets[:20]:
        find_coupons(ticket_number=t)
    service = []
    for t in tickets:
        started = time.perf_counter()
        found = find_coupons(ticket_number=t)
        service.append(time.perf_counter() - started)
        assert len(found) == 2
    settings = connection.settings_dict
    bare = []
    with psycopg.connect(host=settings["HOST"], port=settings["PORT"] or None, user=settings["USER"],
                         dbname=settings["NAME"], autocommit=True) as conn:  # fmt: skip
        for t in tickets:
            started = time.perf_counter()
            conn.execute("SELECT * FROM retro_flight WHERE ticket_number = %s ORDER BY coupon_number", [t]).fetchall()
            bare.append(time.perf_counter() - started)
    return p95(service), p95(bare)


def bench_queue():
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    user, created = User.objects.get_or_create(username="bench-supervisor")
    if created:
        user.groups.add(Group.objects.get(name="Supervisor"))
    client = Client()
    client.force_login(user)
    url = reverse("flight-approval-queue")
    searches = [{}, {"name_match": "mismatch"}, {"carrier": "SW", "age": "3"}, {"age": "overdue"},
                {"flight_from": (dt.date.today() - dt.timedelta(days=60)).isoformat()}, {"manual_entry": "false"},
                {"page": "3"}, {"name_match": "near_miss", "page": "2"}]  # fmt: skip
    counts, timings = set(), []
    for params in searches:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, params).status_code == 200
        counts.add(len(queries))
    for n in range(SAMPLES // 2):
        started = time.perf_counter()
        client.get(url, searches[n % len(searches)])
        timings.append(time.perf_counter() - started)
    return p95(timings), statistics.median(timings) * 1000, sorted(counts)


def bench_bulk_approval(program):
    from django.contrib.auth.models import Group, User

    from loyalty.lifecycle.decisions import decide_many
    from retro.flights.decisions import FLIGHT_CLAIM_APPROVALS
    from retro.models import FlightClaim

    user, created = User.objects.get_or_create(username="bench-approver")
    if created:
        user.groups.add(Group.objects.get(name="Supervisor"))
    pks = list(
        FlightClaim.objects.filter(program=program, status="pending")
        .order_by("id")
        .values_list("pk", flat=True)[:APPROVALS]
    )
    with timed() as took:
        outcomes = decide_many(FLIGHT_CLAIM_APPROVALS, pks, "approve", by=user)
    failed = [o.error for o in outcomes if o.error]
    assert not failed, failed[:3]
    return APPROVALS / took()


os.environ.setdefault("DEBUG", "false")  # as deployed: no per-query logging in the measured code


def fresh_database():
    """A database of its own, new each run (bench/_setup.py)."""
    _setup.fresh_database("flights")


def main():
    fresh_database()
    django_on_bench_db()
    from django.utils import timezone

    from retro.models import Flight

    program = ensure_program()
    today = timezone.localdate()
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"flights_{FLIGHTS}.csv"
    if not path.exists():
        generate_csv(path, today)
    import_seconds = import_feed(path, program)
    raw_seconds, indexes = raw_copy_seconds(path)
    report("flights in the file", FLIGHTS, "rows", path.name)
    report("import_flights (validate in Python, COPY into the feed, one transaction)", FLIGHTS / import_seconds,
           "rows/s", f"{import_seconds:.1f} s", floor=FLIGHTS / raw_seconds,
           floor_label="raw COPY")  # fmt: skip
    report(f"floor: raw COPY of the same file into a table with the same {indexes} indexes", FLIGHTS / raw_seconds,
           "rows/s", f"{raw_seconds:.1f} s")  # fmt: skip
    report("import speed / raw COPY speed", f"{raw_seconds / import_seconds:.2f}", "", "target >= 0.5",
           target="≥ 0.5", ok=raw_seconds / import_seconds >= 0.5)  # fmt: skip

    service, bare = bench_search(program)
    report("ticket search (find_coupons), p95", f"{service:.2f}", "ms",
           f"floor {bare:.2f} ms: bare indexed SELECT by ticket through psycopg; {service / bare:.1f}× the floor; "
           "target within 5×", floor=bare, floor_label="bare SELECT", target="≤ 5× the floor",
           ok=service <= 5 * bare)  # fmt: skip

    load_members_and_claims(program, today)
    queue_p95, queue_median, counts = bench_queue()
    report("Flights Approval page (50 rows, filtered, with the dashboard), p95", f"{queue_p95:.1f}", "ms",
           f"median {queue_median:.1f} ms over {PENDING:,} pending claims; "
           f"{'/'.join(map(str, counts))} queries per page; target < 100 ms", target="< 100 ms",
           ok=queue_p95 < 100)  # fmt: skip
    rate = bench_bulk_approval(program)
    report(
        "bulk approval through the decision service (each posts its Flight Activity)",
        rate,
        "claims/s",
        f"{APPROVALS} claims; target >= 200/s",
        target="≥ 200 claims/s",
        ok=rate >= 200,
    )
    assert Flight.objects.filter(program=program).count() == FLIGHTS


if __name__ == "__main__":
    sys.exit(main())
