"""Ledger benchmark: post_activity one at a time, post_activities in batches, balance reads.

On PostgreSQL with 100,000 memberships and 1,000,000 ledger entries
(generated in SQL with generate_series, kept between runs).
"""

import os
import random
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_db, report, timed  # noqa: E402

django_on_bench_db()

import datetime as dt  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from loyalty import selectors, services  # noqa: E402
from loyalty.models import EarningRule, EarningRuleSet, LedgerEntry, Membership, Program, Tier  # noqa: E402

MEMBERSHIPS = 100_000
ACTIVITIES = 500_000  # two entries each: 1,000,000 ledger entries
SINGLE = 5_000  # long enough that one checkpoint or autovacuum pass does not decide the figure
BATCHES, BATCH_SIZE = 20, 1_000
BALANCE_READS = 1_000
CODE = "bench-ledger"
ONE_AT_A_TIME = "post_activity, one at a time"  # one chart: the three ways of posting one at a time


def ensure_data():
    program, _ = Program.objects.get_or_create(
        code=CODE,
        defaults={"name": "Bench Rewards", "kind": "retail", "currency_name": "Points", "time_zone": "Europe/Paris"},
    )
    tiers = [
        Tier.objects.get_or_create(program=program, code=code, defaults={"name": code.title(), "rank": rank})[0]
        for rank, code in enumerate(["bronze", "silver", "gold"], start=1)
    ]
    if not EarningRuleSet.objects.filter(program=program).exists():
        rule_set = EarningRuleSet.objects.create(program=program, name="Bench rules", valid_from=dt.date(2020, 1, 1))
        Calc = EarningRule.Calculation
        EarningRule.objects.create(rule_set=rule_set, name="1 per unit", calculation=Calc.PER_CURRENCY_UNIT, rate=1)
        EarningRule.objects.create(
            rule_set=rule_set, name="Gold 20%", calculation=Calc.PERCENT_OF_BASE, rate=20, tier=tiers[2], metric="bonus"
        )
        EarningRule.objects.create(
            rule_set=rule_set, name="Big basket", calculation=Calc.FIXED, points=10, min_amount=100, metric="misc"
        )
        EarningRule.objects.create(
            rule_set=rule_set, name="Tier points", calculation=Calc.PER_CURRENCY_UNIT, rate="0.1", metric="tier_points"
        )
    rule_set = EarningRuleSet.objects.get(program=program)
    have = Membership.objects.filter(program=program).count()
    entries = LedgerEntry.objects.filter(membership__program=program).count()
    if have >= MEMBERSHIPS and entries >= 2 * ACTIVITIES:
        return program, f"reused {have:,} memberships, {entries:,} ledger entries"
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO loyalty_member (member_number, first_name, last_name, email, phone, enrolled_on, status,
                                           search_name)
               SELECT 'BL' || lpad(g::text, 9, '0'), 'Bench', 'Member' || g, '', '', date '2020-01-01', 'active',
                      'bench member' || g
               FROM generate_series(1, %s) g ON CONFLICT DO NOTHING""",
            [MEMBERSHIPS],
        )
        cursor.execute(
            """INSERT INTO loyalty_membership (member_id, program_id, membership_number, membership_type, card_level,
                                               joined_on)
               SELECT m.id, %s, 'BLM' || substr(m.member_number, 3), 'Individual', '', date '2020-01-01'
               FROM loyalty_member m WHERE m.member_number LIKE 'BL%%' ON CONFLICT DO NOTHING""",
            [program.pk],
        )
        cursor.execute(
            """INSERT INTO loyalty_tierperiod (membership_id, tier_id, valid_from, reason, created_at)
               SELECT ms.id, (ARRAY[%s, %s, %s])[1 + ms.id %% 3], date '2020-01-01', 'bench', now()
               FROM loyalty_membership ms
               WHERE ms.program_id = %s
                 AND NOT EXISTS (SELECT 1 FROM loyalty_tierperiod tp WHERE tp.membership_id = ms.id)""",
            [*[t.pk for t in tiers], program.pk],
        )
        cursor.execute(
            """WITH ms AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                           FROM loyalty_membership WHERE program_id = %s)
               INSERT INTO loyalty_activity (membership_id, kind, occurred_on, posted_at, source, external_reference,
                                             description, amount, currency, attributes, explanation, rule_set_id)
               SELECT ms.id, 'purchase', date '2021-01-01' + (g %% 1000), now(), 'seed', 'seed-' || g, '',
                      (g %% 500) + 1, 'EUR', '{}', '{}', %s
               FROM generate_series(0, %s - 1) g JOIN ms ON ms.n = g %% %s
               ON CONFLICT DO NOTHING""",
            [program.pk, rule_set.pk, ACTIVITIES, MEMBERSHIPS],
        )
        cursor.execute(
            """INSERT INTO loyalty_ledgerentry (activity_id, membership_id, metric, quantity, created_at)
               SELECT a.id, a.membership_id, m.metric, floor(a.amount * m.factor) + 1, now()
               FROM loyalty_activity a
               CROSS JOIN (VALUES ('base', 1.0), ('tier_points', 0.1)) AS m(metric, factor)
               WHERE a.source = 'seed' AND a.membership_id IN (SELECT id FROM loyalty_membership WHERE program_id = %s)
               ON CONFLICT DO NOTHING""",
            [program.pk],
        )
        cursor.execute("VACUUM ANALYZE loyalty_ledgerentry")
        cursor.execute("VACUUM ANALYZE loyalty_activity")
        cursor.execute("VACUUM ANALYZE loyalty_tierperiod")
    have = Membership.objects.filter(program=program).count()
    entries = LedgerEntry.objects.filter(membership__program=program).count()
    return (
        program,
        f"generated {have:,} memberships, {entries:,} ledger entries in {time.perf_counter() - started:.0f} s",
    )


def request(membership, run, i):
    return {
        "membership": membership,
        "kind": "purchase",
        "occurred_on": dt.date(2023, 1, 1) + dt.timedelta(days=i % 365),
        "amount": Decimal(random.randint(500, 30000)) / 100,
        "currency": "EUR",
        "source": "bench",
        "external_reference": f"{run}-{i}",
    }


def commit_floor(count=500):
    """Bare psycopg: one single-row INSERT and COMMIT per call, the durable floor of any one-at-a-time post."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        # A logged table (not TEMP): its commits wait for the WAL flush like the ledger's do.
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (membership_id bigint, quantity numeric)")
        conn.commit()
        with timed() as elapsed:
            for i in range(count):
                conn.execute("INSERT INTO bench_commit_probe VALUES (%s, %s)", [i, i])
                conn.commit()
        conn.execute("DROP TABLE bench_commit_probe")
        conn.commit()
    return count / elapsed()


def single_posts(memberships, run, label, count=SINGLE):
    with timed() as elapsed:
        for i in range(count):
            services.post_activity(**request(random.choice(memberships), f"{run}{label}", i))
    return count / elapsed()


def main():
    random.seed(7)
    settings.DEBUG = False  # no query log growing through the run
    program, how = ensure_data()
    report("data", how)
    memberships = list(Membership.objects.filter(program=program).only("id", "program_id").order_by("?")[:5000])
    run = uuid.uuid4().hex[:10]
    report("machine", f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")

    single_posts(memberships, run, "w", 50)  # warm up connections and code paths
    floor = commit_floor()
    report("floor: bare psycopg INSERT + COMMIT, one row per transaction", floor, "commits/s")
    rate = single_posts(memberships, run, "s")
    report("post_activity, one at a time, each its own transaction", rate, "activities/s", "target ≥ 500",
           floor=floor, floor_label="bare INSERT + COMMIT", target="≥ 500 activities/s", ok=rate >= 500,
           chart=ONE_AT_A_TIME)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    rate = single_posts(memberships, run, "a")
    report(
        "post_activity, one at a time, synchronous_commit off",
        rate,
        "activities/s",
        "the same code without waiting for the WAL flush of each commit",
        chart=ONE_AT_A_TIME,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
    with transaction.atomic():
        rate = single_posts(memberships, run, "t")
    report("post_activity, one at a time, inside one transaction (a job's loop)", rate, "activities/s",
           chart=ONE_AT_A_TIME)  # fmt: skip

    sample = [request(random.choice(memberships), f"{run}q", i) for i in range(200)]
    with CaptureQueriesContext(connection) as queries:
        for kwargs in sample:
            services.post_activity(**kwargs)
    statements = sum(1 for q in queries if q["sql"] not in ("BEGIN", "COMMIT"))
    report(
        "post_activity queries per activity",
        len(queries) / 200,
        "queries",
        f"{statements / 200:.0f} without BEGIN/COMMIT; target ≤ 6",
        target="≤ 6",
        ok=len(queries) / 200 <= 6,
    )
    with CaptureQueriesContext(connection) as queries:
        for kwargs in sample:
            assert services.post_activity(**kwargs).just_posted is False
    report("post_activity queries per repeated (idempotent) call", len(queries) / 200, "queries")

    batches = [
        [services.ActivityRequest(**request(random.choice(memberships), f"{run}b{b}", i)) for i in range(BATCH_SIZE)]
        for b in range(BATCHES)
    ]
    with CaptureQueriesContext(connection) as queries, timed() as elapsed:
        for batch in batches:
            results = services.post_activities(requests=batch)
            assert not any(isinstance(r, Exception) for r in results)
    total = BATCHES * BATCH_SIZE
    report(
        "post_activities, batches of 1,000",
        total / elapsed(),
        "activities/s",
        f"{total:,} activities, {len(queries) / BATCHES:.0f} queries + 2 COPY per batch, target ≥ 2,000",
        target="≥ 2,000 activities/s",
        ok=total / elapsed() >= 2000,
    )

    timings = []
    sample = random.sample(memberships, BALANCE_READS)
    for membership in sample:
        start = time.perf_counter()
        selectors.balances(membership)
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    chart = "balance read (all metrics)"
    report("balance read (all metrics), median", statistics.median(timings), "ms", chart=chart)
    p95 = timings[int(len(timings) * 0.95)]
    report("balance read (all metrics), p95", p95, "ms", "target < 5 ms", target="< 5 ms", ok=p95 < 5, chart=chart)
    awards = []
    for membership in sample:
        start = time.perf_counter()
        selectors.award_balance(membership)
        awards.append((time.perf_counter() - start) * 1000)
    awards.sort()
    report("award balance read, p95", awards[int(len(awards) * 0.95)], "ms")
    report("machine", f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
