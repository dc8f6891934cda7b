"""Membership claims at scale: the search by each basic criterion, the claim screen, the daily stay calculation.

1,000,000 membership claims and 5,000,000 notes (5 a claim) over 200,000 members, generated in SQL
(INSERT … SELECT FROM generate_series) in a database of its own, new each run (loyalty_bench_claims,
or BENCH_DATABASE_URL's name + "_claims"). Claim ids grow with time as in life: recent claims are
mostly open, old ones mostly closed; four programs of unequal size, ten claim types, three sources,
fifty owners, forty hotels, reservation numbers nearly all unique.

Each page is requested through Django's test client as a signed-in CSR (middleware, session, view,
templates: the server's whole time, no network), 90 times (3 passes over 30 different values), and
its p95 is printed beside its floor measured in the same run, each request beside its floor: the
bare psycopg query returning the same rows (the grid's 25 newest matching claims joined with what the
grid shows; for the claim screen, the claim with its relations and its notes). Each page's ids are
checked against the floor's. The "page SQL" column is the p95 of the page's own statements replayed
alone (where the rest is Python). Queries are the page's whole count (session and user included).
Targets: p95 ≤ 5× the floor and < 150 ms; a fixed number of queries per page.

The daily stay calculation (claims.stays.calculate_due_stays) then credits 100,000 checked-out
stays, beside loyalty.services.post_activities on the same 100,000 requests (the posting alone, in
the same batches and transactions, under another reference), and every due stay is checked to hold
exactly one activity. Target ≥ 2,000 stays/s.

Two more figures explain the pages' time: what a search page costs before its rows (the form alone,
a search that lists nothing), and the search by source once a tenth of the members have a portal
login (an auth user each), which the search form's Submitter list offers.
"""

import datetime as dt
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_db, report, timed  # noqa: E402

TARGET_RATE = 2000

from claims_data import (  # noqa: E402
    BATCH,
    CLAIMS,
    LONG_NOTES,
    MEMBERS,
    NOT_DUE,
    NOTES_PER_CLAIM,
    SAMPLES,
    STAYS,
    add_long_chronologies,
    ensure_reference_data,
    execute,
    fresh_database,
    load_data,
    scalar,
)
from claims_pages import (  # noqa: E402
    PAGE_TARGET,
    ROUNDS,
    ROW_LINK,
    TABLE_HEADER,
    TARGET_MS,
    TARGET_RATIO,
    bare_connection,
    bench_search,
    measure_page,
    p95,
    search_criteria,
)

NOTE_ROW = re.compile(r'<tr id="note-\d+">')
CLAIM_SQL = """
SELECT c.*, p.*, ms.*, m.*, ct.*, org.*, o.*, s.*, h.*, ac.*, d.*, st.*
FROM claims_membershipclaim c
JOIN loyalty_program p ON p.id = c.program_id
JOIN loyalty_membership ms ON ms.id = c.membership_id
JOIN loyalty_member m ON m.id = ms.member_id
JOIN claims_claimtype ct ON ct.id = c.claim_type_id
LEFT JOIN claims_claimorigin org ON org.id = c.origin_id
LEFT JOIN auth_user o ON o.id = c.owner_id
LEFT JOIN auth_user s ON s.id = c.submitted_by_id
LEFT JOIN loyalty_location h ON h.id = c.hotel_id
LEFT JOIN claims_adjustmentcode ac ON ac.id = c.adjustment_code_id
LEFT JOIN auth_user d ON d.id = c.decided_by_id
LEFT JOIN claims_stay st ON st.id = c.stay_id
WHERE c.id = %s"""
CLAIM_NOTES_SQL = """
SELECT n.*, t.*, u.*
FROM claims_claimnote n
LEFT JOIN claims_noteactivitytype t ON t.id = n.activity_type_id
LEFT JOIN auth_user u ON u.id = n.author_id
WHERE n.claim_id = %s ORDER BY n.sequence"""


def bench_claim_screen(client, conn, long_ids):
    from django.urls import reverse

    rng = random.Random(11)
    short_ids = rng.sample(sorted(set(range(1, CLAIMS + 1)) - set(long_ids)), SAMPLES)
    rows = []
    for label, ids, notes in (("claim screen, 5 notes", short_ids, NOTES_PER_CLAIM),
                              (f"claim screen, {LONG_NOTES} notes", long_ids, LONG_NOTES)):  # fmt: skip

        def check(html, bare, notes=notes, label=label):
            claim, chronology = bare
            assert len(claim) == 1 and len(chronology) == notes, (label, len(claim), len(chronology))
            assert len(NOTE_ROW.findall(html)) == notes, (label, len(NOTE_ROW.findall(html)))

        requests = [(reverse("claim-detail", args=[pk]), {}) for pk in ids]
        floors = [
            lambda conn, pk=pk: [
                conn.execute(CLAIM_SQL, [pk]).fetchall(),
                conn.execute(CLAIM_NOTES_SQL, [pk]).fetchall(),
            ]
            for pk in ids
        ]
        row = measure_page(client, conn, label, requests, floors, check)
        print(row.line(), flush=True)
        row.record("claim screen, p95")
        rows.append(row)
    return rows


def stay_requests(stays, program):
    from claims.stays import stay_attributes
    from loyalty import services
    from loyalty.models import Activity

    requests = []
    for stay in stays:
        stay.membership.program = program
        requests.append(
            services.ActivityRequest(
                membership=stay.membership, kind=Activity.Kind.STAY, source="bench-floor",
                occurred_on=stay.departure_date, external_reference=f"floor:{stay.pk}", amount=stay.room_revenue,
                currency=stay.currency, location=stay.hotel, attributes=stay_attributes(stay),
                description=f"Stay {stay.hotel.code} {stay.property_reservation_number}",
            )
        )  # fmt: skip
    return requests


def posting_floor(program, today):
    """post_activities alone on the due stays' requests, batches of BATCH, each committed: the posting's cost."""
    from django.db import transaction

    from claims.models import Stay
    from loyalty import services

    stays = list(
        Stay.objects.filter(program=program, status="checked_out", activity__isnull=True, departure_date__lt=
                            today - dt.timedelta(days=5))
        .select_related("membership__member", "hotel").order_by("departure_date", "id")
    )  # fmt: skip
    requests = stay_requests(stays, program)
    elapsed = 0.0
    for start in range(0, len(requests), BATCH):
        started = time.perf_counter()
        with transaction.atomic():
            results = services.post_activities(requests=requests[start : start + BATCH])
        elapsed += time.perf_counter() - started
        failed = [r for r in results if isinstance(r, Exception)]
        assert not failed, failed[:3]
    return len(requests), elapsed


def _calculate_part(_):
    """One worker process of the daily calculation (as the Celery worker runs claims.calculate_stays_part)."""
    from django.db import connections

    from claims.stays import calculate_due_stays

    connections.close_all()  # a forked child opens its own connection
    run = calculate_due_stays()
    return run.calculated, run.failed, dict(run.by_program)


def calculate_in_workers(workers):
    """The calculation as production runs it: `workers` processes at once, sharing the stays (SKIP LOCKED)."""
    import multiprocessing

    from django.db import connections

    from claims.stays import CalculationRun

    connections.close_all()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_calculate_part, range(workers))
    run = CalculationRun()
    run.calculated, run.failed = sum(p[0] for p in parts), sum(p[1] for p in parts)
    for _, _, by_program in parts:
        for code, count in by_program.items():
            run.by_program[code] = run.by_program.get(code, 0) + count
    return run, [p[0] for p in parts]


def bench_stays(program, today):
    from django.conf import settings

    workers = settings.STAY_CALCULATION_WORKERS
    posted, floor_seconds = posting_floor(program, today)
    for table in ("loyalty_activity", "loyalty_ledgerentry", "claims_stay"):
        execute(f"VACUUM ANALYZE {table}")
    execute("CHECKPOINT")  # the floor's writes are flushed now, not during the calculation
    with timed() as took:
        run, shares = calculate_in_workers(workers)
    seconds = took()
    assert run.calculated == STAYS and run.failed == 0, str(run)
    credited = scalar(
        """SELECT count(*) FROM claims_stay s JOIN loyalty_activity a ON a.id = s.activity_id
           WHERE s.program_id = %s AND a.source = 'stay' AND a.external_reference = 'stay:' || s.id
             AND s.calculated_at IS NOT NULL""",
        [program.pk],
    )
    activities = scalar("SELECT count(*) FROM loyalty_activity WHERE source = 'stay'")
    references = scalar("SELECT count(DISTINCT external_reference) FROM loyalty_activity WHERE source = 'stay'")
    left = scalar("SELECT count(*) FROM claims_stay WHERE program_id = %s AND activity_id IS NULL", [program.pk])
    assert credited == activities == references == STAYS and left == NOT_DUE, (credited, activities, references, left)
    rate = STAYS / seconds
    verdict = "PASS" if rate >= TARGET_RATE else "FAIL"
    report(
        "daily stay calculation (calculate_due_stays)",
        rate,
        "stays/s",
        f"{STAYS:,} stays in {seconds:.1f} s by {workers} worker processes at once (STAY_CALCULATION_WORKERS, "
        f"as the daily task runs them; {' + '.join(f'{n:,}' for n in shares)} stays each): {run}; floor "
        f"{posted / floor_seconds:,.0f} requests/s: post_activities alone in one process on the same {posted:,} "
        f"requests, batches of {BATCH:,}, each committed; {rate / (posted / floor_seconds):.2f}× the floor; "
        f"target ≥ {TARGET_RATE:,}/s: {verdict}",
        floor=posted / floor_seconds,
        floor_label="post_activities alone",
        target=f"≥ {TARGET_RATE:,} stays/s",
        ok=rate >= TARGET_RATE,
    )
    report(
        "stays credited exactly once",
        credited,
        "stays",
        f"{activities:,} stay activities, {references:,} distinct references; {left:,} stays not due left alone",
    )


def bench_fixed_cost(client):
    """What every search page costs before its rows: the form alone, and a search that lists nothing."""
    from django.urls import reverse

    url = reverse("claim-search")
    pages = [("the search form alone (no criterion)", {}),
             ("a search listing no claim (a claim number past the last)", {"number": str(CLAIMS + 1)})]  # fmt: skip
    for label, params in pages:
        client.get(url, params)
        server, cpu = [], []
        for _ in range(SAMPLES * ROUNDS):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            server.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200 and not ROW_LINK.search(response.content.decode())
        report(
            f"fixed cost: {label}, p95",
            p95(server),
            "ms",
            f"median Python CPU {statistics.median(cpu) * 1000:.1f} ms",
            chart="fixed cost of a search page, p95",
        )


def bench_portal_logins(client, criteria, rows):
    """The search by source again once a tenth of the members have a portal login (an auth user each)."""
    logins = MEMBERS // 10
    execute(
        """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                                  date_joined)
           SELECT '!', false, member_number, first_name, last_name, email, false, true, now()
           FROM loyalty_member WHERE id %% 10 = 0 ORDER BY id LIMIT %s""",
        [logins],
    )
    execute("UPDATE loyalty_member m SET user_id = u.id FROM auth_user u WHERE u.username = m.member_number")
    execute("VACUUM ANALYZE auth_user")
    execute("VACUUM ANALYZE loyalty_member")
    conn = bare_connection()
    label, param, values, floor_of = next(c for c in criteria if c[1] == "source")
    before = next(r for r in rows if r.label == label)
    after = bench_search(client, conn, [(label, param, values, floor_of)], show=False)[0]
    conn.close()
    report(
        f"search by source once {logins:,} members have a portal login, p95",
        after.page,
        "ms",
        f"{after.page / before.page:.1f}× the same page without them ({before.page:.1f} ms); median Python CPU "
        f"{after.cpu:.1f} ms; {'/'.join(map(str, sorted(after.counts)))} queries: {after.verdict}",
        floor=after.bare,
        floor_label="the same rows via psycopg",
        target=PAGE_TARGET,
        ok=after.verdict == "PASS",
    )


def main():
    started = time.perf_counter()
    fresh_database()
    django_on_bench_db()
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    programs, _ = ensure_reference_data()
    today = timezone.localdate()
    load_data(programs, today)
    long_ids = random.Random(5).sample(range(1, CLAIMS + 1), SAMPLES)
    add_long_chronologies(long_ids)
    execute("VACUUM ANALYZE claims_claimnote")

    client = Client()
    client.force_login(User.objects.get(username="bench-csr"))
    conn = bare_connection()
    print(
        f"\nSearch by one basic criterion (GET /claims/?criterion=value, 25 rows, newest first) and the claim "
        f"screen: {SAMPLES * ROUNDS} requests each ({ROUNDS} passes over {SAMPLES} values), as a CSR; bare = the "
        "same rows through psycopg, each measured right after its page. Target: "
        f"p95 ≤ {TARGET_RATIO}× bare and < {TARGET_MS} ms, a fixed number of queries.\n",
        flush=True,
    )
    criteria = search_criteria()
    print(f"\n{TABLE_HEADER}", flush=True)  # a blank line: the table is not part of the list above
    rows = bench_search(client, conn, criteria)
    rows += bench_claim_screen(client, conn, long_ids)
    conn.close()
    print(flush=True)
    screens = [r for r in rows if r.label.startswith("claim screen")]
    same = screens[0].counts == screens[1].counts
    report(
        "claim screen queries, 5 notes / 50 notes",
        f"{'/'.join(map(str, sorted(screens[0].counts)))} / {'/'.join(map(str, sorted(screens[1].counts)))}",
        "",
        "the same: no query per note" if same else "GROWS WITH THE NOTES",
        target="the same: no query per note",
        ok=same,
    )
    passed = sum(r.verdict == "PASS" for r in rows)
    report("pages passing", f"{passed} of {len(rows)}", "", f"≤ {TARGET_RATIO}× bare and < {TARGET_MS} ms")
    bench_fixed_cost(client)
    bench_stays(programs[0], today)
    bench_portal_logins(client, criteria, rows)
    report("whole benchmark", time.perf_counter() - started, "s", f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
