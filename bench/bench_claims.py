"""Membership claims at scale: the search by each basic criterion, the claim screen, the daily stay calculation.

1,000,000 membership claims and 5,000,000 notes (5 a claim) over 200,000 members, generated in SQL
(INSERT … SELECT FROM generate_series) in a database of its own, new each run (loyalty_bench_claims,
or BENCH_DATABASE_URL's name + "_claims"). Claim ids grow with time as in life: recent claims are
mostly open, old ones mostly closed; four programs of unequal size, ten claim types, three sources,
fifty owners, forty hotels, reservation numbers nearly all unique.

Each page is requested through Django's test client as a signed-in CSR (middleware, session, view,
templates: the server's whole time, no network), 30 times with 30 different values, and its p95 is
printed beside its floor measured in the same run: the bare psycopg query returning the same rows
(the grid's 25 newest matching claims joined with what the grid shows; for the claim screen, the
claim with its relations and its notes). Each page's ids are checked against the floor's. The
"page SQL" column is the p95 of the page's own statements replayed alone (where the rest is Python).
Queries are the page's whole count (session and user included). Targets: p95 ≤ 5× the floor and
< 150 ms; a fixed number of queries per page.

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
import _setup  # noqa: E402
from _setup import ROOT, django_on_bench_db, report, timed  # noqa: E402

CLAIMS = int(os.environ.get("BENCH_CLAIMS", "1000000"))
NOTES_PER_CLAIM = 5
MEMBERS = max(1000, CLAIMS // 5)
STAYS = max(1000, CLAIMS // 10)
NOT_DUE = STAYS // 10  # in house, or checked out inside the delay: the calculation leaves them
DAYS = 1095  # three years of claims
OWNERS = 50
SAMPLES = 30  # requests per criterion; p95 is the 29th slowest (interpolated)
LONG_NOTES = 50
TARGET_MS, TARGET_RATIO, TARGET_RATE = 150, 5, 2000
BATCH = 2000  # claims.stays.BATCH_SIZE
PROGRAMS = [  # code, name, share of memberships, hotels
    ("bc-grand", "Bench Grand Hotels", 0.50, 16),
    ("bc-city", "Bench City Inns", 0.25, 12),
    ("bc-resort", "Bench Resorts", 0.15, 8),
    ("bc-suites", "Bench Suites", 0.10, 4),
]
EXTRA_CLAIM_TYPES = [("FOLIO", "Folio copy"), ("RATE", "Rate dispute"), ("PARTNER", "Partner miles"),
                     ("MERGE", "Account merge"), ("STATEMENT", "Statement question")]  # fmt: skip
# Claim types in order of frequency and their weights (%): missing stays are most of the work.
TYPE_WEIGHTS = [("STAY", 40), ("POINTS", 15), ("NEWCARD", 10), ("GOODWILL", 8), ("OTHER", 7), ("FOLIO", 4),
                ("RATE", 4), ("PARTNER", 4), ("MERGE", 4), ("STATEMENT", 4)]  # fmt: skip
STAY_TYPES = ("STAY", "FOLIO", "RATE")
FIRST_NAMES = ("Anna Bruno Carla Diego Elena Farid Greta Hugo Irene Jonas Kenji Lucia Marta Nadia Oscar Paolo "
               "Quentin Rosa Sven Tomas Ulla Victor Wanda Xavier Yusuf Zoe Amir Bianca Cyril Dalia Emil Fiona "
               "Gustav Helga Ivo Jana Karim Lars Milo Nora").split()  # fmt: skip
SYLLABLES = "ka lo mi ren sa to vi ber gen hal jor mar nel pet ros sten tin wal ya zel dor fen gru lin".split()
NOTE_PHRASES = [
    "Member called about a stay missing from the statement.",
    "Folio received by e-mail, amounts match the property's records.",
    "Called the property to verify the reservation; awaiting their answer.",
    "Property confirmed the stay and the room revenue.",
    "Caller called back; explained the 7 day waiting period after departure.",
    "Sent the member a reply with the expected posting date.",
    "Card number was missing on the reservation; attached after verification.",
    "Remarks: member is a frequent guest, handle with priority.",
    "Waiting for the caller to send the final folio.",
    "Points adjusted as agreed with the supervisor.",
    "Duplicate of an earlier claim for the same reservation.",
    "Closed after the stay posted with the daily calculation.",
]

os.environ.setdefault("DEBUG", "false")  # as deployed: no per-query logging in the measured code


def fresh_database():
    """A database of its own, new each run: the calculation posts to an append-only ledger."""
    import psycopg
    from psycopg import sql

    name = "loyalty_bench_claims"
    if os.environ.get("BENCH_DATABASE_URL"):
        base, _, options = os.environ["BENCH_DATABASE_URL"].partition("?")
        server, _, old = base.rpartition("/")
        name = f"{old}_claims"
        os.environ["BENCH_DATABASE_URL"] = f"{server}/{name}" + (f"?{options}" if options else "")
        admin = f"{server}/postgres"
    else:
        sys.path.insert(0, str(ROOT))
        from loyalty.embedded_database import database_url

        admin = database_url("postgres")
        _setup.BENCH_DATABASE = name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- data ----------------------------------------------------------------------------------------------


def execute(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def scalar(sql, params=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


class IndexesRebuilt:
    """Drop a table's plain indexes (not those of its primary key or unique constraints), rebuild them on exit.

    A bulk INSERT then writes the heap alone and each index is built once, sorted, from the full table:
    the indexes the migrations made, exactly as they made them (pg_indexes.indexdef).
    """

    def __init__(self, *tables):
        self.tables = tables
        self.definitions = []

    def __enter__(self):
        from django.db import connection

        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                    "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                    [table, table],
                )
                found = cursor.fetchall()
                self.definitions += [definition for _, definition in found]
                for name, _ in found:
                    cursor.execute(f'DROP INDEX "{name}"')
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            for definition in self.definitions:
                execute(definition)


def ensure_reference_data():
    """Programs, tiers, hotels, rule set, claim settings, claim types, adjustment codes, owners and the CSR."""
    from django.contrib.auth.models import Group, User

    from claims.models import AdjustmentCode, ClaimSettings, ClaimType
    from loyalty.models import EarningRule, EarningRuleSet, Location, Program, Tier

    programs = []
    for code, name, _, hotels in PROGRAMS:
        program = Program.objects.create(
            code=code, name=name, kind=Program.Kind.HOTEL, currency_name="Points", time_zone="UTC"
        )
        programs.append(program)
        for rank, tier in enumerate(("blue", "silver", "gold"), start=1):
            Tier.objects.create(program=program, code=tier, name=tier.title(), rank=rank)
        Location.objects.bulk_create(
            Location(program=program, code=f"{code[3:6].upper()}{n:02d}", name=f"{name} {n}",
                     kind=Location.Kind.HOTEL, city=f"City {n}", country="US")
            for n in range(1, hotels + 1)
        )  # fmt: skip
        ClaimSettings.objects.create(program=program)
        AdjustmentCode.objects.create(
            program=program, code="GOODWILL", description="Goodwill points",
            upper_points=10_000, upper_stays=5, upper_nights=10, upper_revenue=5_000,
        )  # fmt: skip
    stay_program = programs[0]
    gold = Tier.objects.get(program=stay_program, code="gold")
    rules = EarningRuleSet.objects.create(program=stay_program, name="Stays", valid_from=dt.date(2020, 1, 1))
    Calc = EarningRule.Calculation
    EarningRule.objects.create(rule_set=rules, name="10 per dollar", activity_kind="stay",
                               calculation=Calc.PER_CURRENCY_UNIT, rate=10)  # fmt: skip
    EarningRule.objects.create(rule_set=rules, name="Gold 25%", activity_kind="stay",
                               calculation=Calc.PERCENT_OF_BASE, rate=25, tier=gold, metric="bonus")  # fmt: skip
    EarningRule.objects.create(rule_set=rules, name="Tier points", activity_kind="stay",
                               calculation=Calc.PER_CURRENCY_UNIT, rate=1, metric="tier_points")  # fmt: skip
    for code, label in EXTRA_CLAIM_TYPES:
        ClaimType.objects.get_or_create(code=code, defaults={"label": label})
    csr_group = Group.objects.get(name="CSR")
    owners = User.objects.bulk_create(
        User(username=f"owner{n:02d}", first_name=FIRST_NAMES[n % len(FIRST_NAMES)], last_name=f"Agent{n}")
        for n in range(1, OWNERS + 1)
    )
    csr = User.objects.create(username="bench-csr", first_name="Bench", last_name="CSR")
    for user in [*owners, csr]:
        user.groups.add(csr_group)
    return programs, csr


def load_members(programs):
    """MEMBERS members, each with a membership, every fifth with a second; tiers; all in SQL."""
    firsts = FIRST_NAMES
    count = len(SYLLABLES) ** 3
    # (g / len(firsts)) * 2731 mod 24³ is a bijection (2731 is prime to 24³): every first + last name is unique.
    execute(
        """INSERT INTO loyalty_member (id, member_number, first_name, last_name, email, phone, enrolled_on, status,
                                       search_name)
           SELECT g, 'BC' || lpad(g::text, 9, '0'), f, l, lower(f) || '.' || lower(l) || '.' || g || '@example.com',
                  '+1 555 ' || lpad((g %% 10000000)::text, 7, '0'), date '2015-01-01' + (g %% 3650), 'active',
                  lower(f || ' ' || l)
           FROM (SELECT g, (%(firsts)s::text[])[1 + g %% %(nf)s] AS f,
                        initcap((%(syl)s::text[])[1 + k %% 24] || (%(syl)s::text[])[1 + (k / 24) %% 24]
                                || (%(syl)s::text[])[1 + (k / 576) %% 24]) AS l
                 FROM (SELECT g, ((g / %(nf)s) * 2731) %% %(count)s AS k
                       FROM generate_series(1, %(members)s) g) AS numbered) AS named""",
        {"firsts": list(firsts), "nf": len(firsts), "syl": SYLLABLES, "count": count, "members": MEMBERS},
    )
    # The member's program by the shares of PROGRAMS (a fixed hash of the id), a second one for every fifth.
    edges = [0.0]
    for _, _, share, _ in PROGRAMS[:-1]:
        edges.append(edges[-1] + share)
    ids = [p.pk for p in programs]
    execute(
        """INSERT INTO loyalty_membership (member_id, program_id, membership_number, membership_type, card_level,
                                           joined_on)
           SELECT m.id, p.program_id, 'H' || p.slot || lpad(m.id::text, 9, '0'), 'Individual', '', m.enrolled_on
           FROM loyalty_member m
           CROSS JOIN LATERAL (
               SELECT slot, (%(ids)s::bigint[])[slot] AS program_id FROM (
                   SELECT width_bucket(((m.id * 7919) %% 1000) / 1000.0, %(edges)s::float8[]) AS slot
                   UNION ALL
                   SELECT 1 + width_bucket(((m.id * 7919) %% 1000) / 1000.0, %(edges)s::float8[]) %% 4
                   WHERE m.id %% 5 = 0
               ) AS slots
           ) AS p
           ORDER BY m.id, p.slot""",
        {"ids": ids, "edges": edges},
    )
    execute(
        """INSERT INTO loyalty_tierperiod (membership_id, tier_id, valid_from, reason, created_at)
           SELECT ms.id, t.id, ms.joined_on, 'bench', now()
           FROM loyalty_membership ms
           JOIN loyalty_tier t ON t.program_id = ms.program_id AND t.rank = 1 + ms.id % 3"""
    )
    for table in ("loyalty_member", "loyalty_membership"):
        execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    # The memberships numbered 0…n-1, with what a claim copies from them, for the claims' random picks.
    execute(
        """CREATE TEMP TABLE bench_ms AS
           SELECT row_number() OVER (ORDER BY ms.id) - 1 AS n, ms.id, ms.program_id, ms.joined_on, ms.expires_on,
                  ms.membership_number, m.first_name || ' ' || m.last_name AS full_name
           FROM loyalty_membership ms JOIN loyalty_member m ON m.id = ms.member_id"""
    )
    execute("CREATE UNIQUE INDEX ON bench_ms (n)")
    execute("ANALYZE bench_ms")
    return scalar("SELECT count(*) FROM bench_ms")


CLAIMS_SQL = """
WITH picks AS (
    SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5, random() AS r6,
           floor(random() * %(memberships)s)::bigint AS n
    FROM generate_series(1, %(claims)s::bigint) g
), based AS (
    SELECT p.*, ms.id AS membership_id, ms.program_id, ms.joined_on, ms.expires_on, ms.full_name,
           %(today)s::date - ((%(claims)s - p.g) * %(days)s / %(claims)s)::int AS claim_date,
           (%(types)s::bigint[])[width_bucket(p.r6, %(type_edges)s::float8[])] AS claim_type_id,
           (ARRAY['back_office', 'property', 'web'])[width_bucket(p.r4, ARRAY[0, 0.6, 0.85]::float8[])] AS source
    FROM picks p JOIN bench_ms ms ON ms.n = p.n
), shaped AS (
    SELECT b.*,
           CASE WHEN %(today)s::date - b.claim_date < 30
                    THEN (%(statuses)s::text[])[width_bucket(b.r1, ARRAY[0, 0.45, 0.60, 0.70, 0.80]::float8[])]
                WHEN %(today)s::date - b.claim_date < 90
                    THEN (%(statuses)s::text[])[width_bucket(b.r1, ARRAY[0, 0.15, 0.25, 0.30, 0.35]::float8[])]
                ELSE (%(statuses)s::text[])[width_bucket(b.r1, ARRAY[0, 0.01, 0.02, 0.025, 0.03]::float8[])]
           END AS status,
           CASE WHEN b.claim_type_id = ANY(%(stay_types)s::bigint[]) THEN 'stay'
                WHEN b.claim_type_id = %(points_type)s AND b.g %% 5 = 0 THEN 'limited_adjustment'
                ELSE 'other' END AS record_type,
           CASE WHEN b.r5 < 0.08 THEN NULL
                ELSE (%(owners)s::bigint[])[1 + floor(power((b.r5 - 0.08) / 0.92, 1.3) * %(owner_count)s)::int]
           END AS owner_id,
           LEAST(now(), (b.claim_date + time '08:00' + b.r2 * interval '10 hours') AT TIME ZONE 'UTC') AS created_at
    FROM based b
), decided AS (
    SELECT s.*,
           CASE WHEN s.status = 'closed'
                THEN (ARRAY['approved', 'rejected', 'none'])[width_bucket(s.r3, ARRAY[0, 0.6, 0.8]::float8[])]
                ELSE 'none' END AS decision,
           s.claim_date - (8 + floor(s.r3 * 50))::int AS departure
    FROM shaped s
)
INSERT INTO claims_membershipclaim (
    id, program_id, membership_id, claim_date, created_at, closed_on, source, caller_name, status, decision,
    decided_at, decided_by_id, origin_id, owner_id, submitted_by_id, claim_type_id, card_level, joined_on, expires_on,
    record_type, hotel_id, property_reservation_number, central_reservation_number, arrival_date, departure_date,
    caller_information, reply_by, comments, stay_id, adjustment_code_id, base_points, bonus_points, misc_points,
    total_points, base_stays, bonus_stays, total_stays, base_nights, bonus_nights, total_nights, base_revenue,
    bonus_revenue, total_revenue, activity_id)
SELECT d.g, d.program_id, d.membership_id, d.claim_date, d.created_at,
       CASE WHEN d.status = 'closed' THEN LEAST(d.claim_date + 1 + floor(d.r2 * 20)::int, %(today)s::date) END,
       d.source, CASE WHEN d.g %% 10 < 8 THEN d.full_name ELSE 'Front desk' END, d.status, d.decision,
       CASE WHEN d.decision <> 'none' THEN d.created_at + interval '1 day' END,
       CASE WHEN d.decision <> 'none' THEN coalesce(d.owner_id, (%(owners)s::bigint[])[1]) END,
       CASE WHEN d.source = 'web' THEN %(web_origin)s WHEN d.g %% 10 = 0 THEN NULL
            ELSE (%(origins)s::bigint[])[1 + d.g %% %(origin_count)s] END,
       d.owner_id,
       (%(owners)s::bigint[])[1 + d.g %% %(owner_count)s],  -- as claims.services.open_claim: always someone
       d.claim_type_id, (ARRAY['Blue', 'Silver', 'Gold'])[1 + d.membership_id %% 3], d.joined_on, d.expires_on,
       d.record_type,
       CASE WHEN d.record_type = 'stay' THEN h.ids[1 + d.g %% cardinality(h.ids)]
            WHEN d.g %% 3 = 0 THEN h.ids[1 + (d.g / 3) %% cardinality(h.ids)] END,
       -- Reservation numbers: a bijection of the id (7919 and 104729 are prime to 10^8 and 10^9), so unique
       -- but for one claim in 97, a second claim for the reservation of the claim before it.
       CASE WHEN d.record_type = 'stay'
            THEN lpad((((CASE WHEN d.g %% 97 = 0 THEN d.g - 1 ELSE d.g END) * 7919) %% 100000000)::text, 8, '0')
            ELSE '' END,
       CASE WHEN d.record_type = 'stay' AND d.r2 < 0.7
            THEN 'CR' || lpad(((d.g * 104729) %% 1000000000)::text, 9, '0') ELSE '' END,
       CASE WHEN d.record_type = 'stay' THEN d.departure - (1 + d.g %% 6)::int END,
       CASE WHEN d.record_type = 'stay' THEN d.departure END,
       CASE WHEN d.g %% 4 = 0 THEN 'Member says the stay is missing from the statement; folio sent by e-mail.'
            ELSE '' END,
       CASE WHEN d.g %% 5 = 0 THEN NULL ELSE d.claim_date + (7 + d.g %% 14)::int END,
       '', NULL,
       CASE WHEN d.record_type = 'limited_adjustment' THEN ac.id END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 100 * (1 + d.g %% 20) END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 100 * (1 + d.g %% 20) END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       CASE WHEN d.record_type = 'limited_adjustment' THEN 0 END,
       NULL
FROM decided d
JOIN bench_hotels h ON h.program_id = d.program_id
JOIN claims_adjustmentcode ac ON ac.program_id = d.program_id
ORDER BY d.g
"""

NOTES_SQL = """
INSERT INTO claims_claimnote (claim_id, sequence, event, activity_type_id, author_id, created_at, text)
SELECT c.id, s.n,
       CASE WHEN s.n = 1 THEN 'opened' WHEN s.n = %(last)s AND c.status = 'closed' THEN 'closed' ELSE '' END,
       CASE WHEN s.n = 1 OR (s.n = %(last)s AND c.status = 'closed') THEN NULL
            ELSE (%(activities)s::bigint[])[1 + (c.id + s.n) %% %(activity_count)s] END,
       CASE WHEN s.n = 1 THEN c.submitted_by_id ELSE coalesce(c.owner_id, c.submitted_by_id) END,  -- never NULL
       LEAST(now(), c.created_at + (s.n - 1) * interval '3 hours'),
       (%(phrases)s::text[])[1 + (c.id * 7 + s.n) %% %(phrase_count)s] || ' '
           || (%(phrases)s::text[])[1 + (c.id * 3 + s.n * 5) %% %(phrase_count)s]
FROM claims_membershipclaim c
CROSS JOIN LATERAL generate_series(%(first)s, %(last)s) AS s(n)
WHERE c.id = ANY(%(ids)s::bigint[]) OR %(ids)s IS NULL
"""


def load_claims(today, memberships):
    """CLAIMS claims and their notes, generated in SQL, with every foreign key of a real row."""
    from django.contrib.auth.models import User

    from claims.models import ClaimOrigin, ClaimType, NoteActivityType

    types = dict(ClaimType.objects.values_list("code", "pk"))
    edges, total = [], 0
    for _, weight in TYPE_WEIGHTS:
        edges.append(total / 100)
        total += weight
    origins = list(ClaimOrigin.objects.order_by("pk").values_list("pk", flat=True))
    owners = list(User.objects.filter(username__startswith="owner").order_by("pk").values_list("pk", flat=True))
    execute(
        """CREATE TEMP TABLE bench_hotels AS SELECT program_id, array_agg(id ORDER BY id) AS ids
           FROM loyalty_location WHERE kind = 'hotel' GROUP BY program_id"""
    )
    execute("SELECT setseed(0.42)")
    execute(
        CLAIMS_SQL,
        {
            "memberships": memberships, "claims": CLAIMS, "today": today, "days": DAYS,
            "types": [types[code] for code, _ in TYPE_WEIGHTS], "type_edges": edges,
            "statuses": ["open", "pending", "review", "wait_caller", "closed"],
            "stay_types": [types[code] for code in STAY_TYPES], "points_type": types["POINTS"],
            "owners": owners, "owner_count": len(owners), "origins": origins, "origin_count": len(origins),
            "web_origin": ClaimOrigin.objects.get(code="WEB").pk,
        },
    )  # fmt: skip
    execute("SELECT setval(pg_get_serial_sequence('claims_membershipclaim', 'id'), %s)", [CLAIMS])
    activities = list(NoteActivityType.objects.order_by("pk").values_list("pk", flat=True))
    notes = {"activities": activities, "activity_count": len(activities), "phrases": NOTE_PHRASES,
             "phrase_count": len(NOTE_PHRASES), "first": 1, "last": NOTES_PER_CLAIM, "ids": None}  # fmt: skip
    execute(NOTES_SQL, notes)


def add_long_chronologies(claim_ids):
    """Notes 6 to LONG_NOTES for these claims: a long-running case."""
    from claims.models import NoteActivityType

    activities = list(NoteActivityType.objects.order_by("pk").values_list("pk", flat=True))
    execute(
        NOTES_SQL.replace("WHEN s.n = %(last)s AND c.status = 'closed' THEN 'closed' ", "").replace(
            "OR (s.n = %(last)s AND c.status = 'closed')", ""
        ),
        {"activities": activities, "activity_count": len(activities), "phrases": NOTE_PHRASES,
         "phrase_count": len(NOTE_PHRASES), "first": NOTES_PER_CLAIM + 1, "last": LONG_NOTES, "ids": claim_ids},
    )  # fmt: skip


def load_stays(program, today):
    """STAYS checked-out stays with a card, past the delay; NOT_DUE more the calculation must leave alone."""
    execute(
        """CREATE TEMP TABLE bench_stay_ms AS
           SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, membership_number, full_name
           FROM bench_ms WHERE program_id = %s""",
        [program.pk],
    )
    execute("CREATE UNIQUE INDEX ON bench_stay_ms (n)")
    execute("ANALYZE bench_stay_ms")
    count = scalar("SELECT count(*) FROM bench_stay_ms")
    execute(
        """INSERT INTO claims_stay (program_id, hotel_id, property_reservation_number, central_reservation_number,
               guest_name, arrival_date, departure_date, status, room_revenue, currency, card_number, membership_id,
               guest_id, exception, exception_detail, card_attached_by_id, card_attached_at, calculated_at,
               activity_id, imported_at)
           SELECT %(program)s, h.ids[1 + g %% cardinality(h.ids)], 'BS' || lpad(g::text, 8, '0'),
                  'CS' || lpad(g::text, 9, '0'), ms.full_name, d.departure - (1 + g %% 5)::int, d.departure, d.status,
                  80 + (g %% 400) + (g %% 100) / 100.0, 'USD', ms.membership_number, ms.id, NULL, '', '', NULL, NULL,
                  NULL, NULL, now()
           FROM generate_series(1, %(total)s::bigint) g
           CROSS JOIN LATERAL (
               SELECT CASE WHEN g <= %(due)s THEN %(today)s::date - (10 + g %% 300)::int
                           WHEN g %% 2 = 0 THEN %(today)s::date + 2 ELSE %(today)s::date - 1 END AS departure,
                      CASE WHEN g <= %(due)s OR g %% 2 = 1 THEN 'checked_out' ELSE 'in_house' END AS status
           ) AS d
           JOIN bench_hotels h ON h.program_id = %(program)s
           JOIN bench_stay_ms ms ON ms.n = (g * 7919) %% %(count)s
           ORDER BY g""",
        {"program": program.pk, "total": STAYS + NOT_DUE, "due": STAYS, "today": today, "count": count},
    )


def load_data(programs, today):
    started = time.perf_counter()
    execute("SET session_replication_role = replica")  # bulk load: foreign keys checked by construction
    execute("SET maintenance_work_mem = '512MB'")  # index builds
    execute("SET work_mem = '256MB'")  # the claims' ORDER BY id sorts in memory
    with IndexesRebuilt("loyalty_member", "loyalty_membership", "loyalty_tierperiod"):
        memberships = load_members(programs)
    members_done = time.perf_counter()
    with IndexesRebuilt("claims_membershipclaim", "claims_claimnote"):
        load_claims(today, memberships)
        claims_done = time.perf_counter()
    indexed = time.perf_counter()
    load_stays(programs[0], today)
    execute("SET session_replication_role = DEFAULT")
    execute("RESET work_mem")  # the pages measured next run on the server's settings
    execute("RESET maintenance_work_mem")
    execute("DROP TABLE bench_ms, bench_hotels, bench_stay_ms")
    for table in ("loyalty_member", "loyalty_membership", "loyalty_tierperiod", "claims_membershipclaim",
                  "claims_claimnote", "claims_stay"):  # fmt: skip
        execute(f"VACUUM ANALYZE {table}")
    execute("CHECKPOINT")
    notes = scalar("SELECT count(*) FROM claims_claimnote")
    print(
        f"- data: {MEMBERS:,} members, {memberships:,} memberships in {members_done - started:.0f} s; "
        f"{CLAIMS:,} claims and {notes:,} notes in {claims_done - members_done:.0f} s (INSERT … SELECT), their "
        f"indexes in {indexed - claims_done:.0f} s; {STAYS + NOT_DUE:,} stays, VACUUM ANALYZE and CHECKPOINT in "
        f"{time.perf_counter() - indexed:.0f} s",
        flush=True,
    )


# --- measurement ---------------------------------------------------------------------------------------

ROW_LINK = re.compile(r'class="claim-link">(\d+)</a>')
NOTE_ROW = re.compile(r'<tr id="note-\d+">')
# The page's 25 claims first, then what the grid shows of them: planned in 2 ms, where the same joins
# around an ORDER BY … LIMIT take the planner 40 to 60 ms to weigh every index that could give the order.
GRID_SQL = """
WITH page AS MATERIALIZED (
    SELECT c.* FROM claims_membershipclaim c {join} WHERE {where} ORDER BY c.id DESC LIMIT 25
)
SELECT c.*, p.name, ms.membership_number, m.member_number, m.first_name, m.last_name, ct.code, h.code,
       o.username, s.username, org.label
FROM page c
JOIN loyalty_program p ON p.id = c.program_id
JOIN loyalty_membership ms ON ms.id = c.membership_id
JOIN loyalty_member m ON m.id = ms.member_id
JOIN claims_claimtype ct ON ct.id = c.claim_type_id
LEFT JOIN loyalty_location h ON h.id = c.hotel_id
LEFT JOIN auth_user o ON o.id = c.owner_id
LEFT JOIN auth_user s ON s.id = c.submitted_by_id
LEFT JOIN claims_claimorigin org ON org.id = c.origin_id
ORDER BY c.id DESC"""
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


def p95(timings):
    return statistics.quantiles(timings, n=20)[18] * 1000


def bare_connection():
    """A psycopg connection of its own, planning as the pages do: no parallel workers (serial_plans), and
    no prepared statements, whose generic plans could not use the partial reservation indexes."""
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    conn = psycopg.connect(host=s["HOST"], port=s["PORT"] or None, user=s["USER"], password=s["PASSWORD"] or None,
                           dbname=s["NAME"], autocommit=True, prepare_threshold=None)  # fmt: skip
    conn.execute("SET max_parallel_workers_per_gather = 0")
    return conn


class Row:
    """One line of the figures table."""

    def __init__(self, label, page, cpu, bare, page_sql, counts):
        self.label, self.page, self.cpu, self.bare = label, page, cpu, bare
        self.page_sql, self.counts = page_sql, counts

    @property
    def ratio(self):
        return self.page / self.bare

    @property
    def verdict(self):
        misses = []
        if self.ratio > TARGET_RATIO:
            misses.append(f"> {TARGET_RATIO}×")
        if self.page >= TARGET_MS:
            misses.append(f"≥ {TARGET_MS} ms")
        if len(self.counts) > 1:
            misses.append("query count varies")
        return "PASS" if not misses else "FAIL (" + ", ".join(misses) + ")"

    def line(self):
        counts = "/".join(map(str, sorted(self.counts)))
        return (f"| {self.label} | {self.page:.1f} | {self.bare:.2f} | {self.ratio:.1f}× | {self.page_sql:.2f} | "
                f"{self.cpu:.1f} | {counts} | {self.verdict} |")  # fmt: skip


TABLE_HEADER = (
    "| page | p95 page ms | p95 bare ms | ratio | p95 page SQL ms | median Python CPU ms | queries | verdict |\n"
    "|---|---:|---:|---:|---:|---:|---:|---|"
)


def replay(conn, queries):
    """Seconds the page's own SELECTs take, run alone through psycopg."""
    started = time.perf_counter()
    for query in queries:
        conn.execute(query).fetchall()
    return time.perf_counter() - started


def selects(captured):
    return [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("SELECT")]


def measure_page(client, conn, label, requests, floors, check, headers=None):
    """requests: [(url, params)]; floors: [floor(conn) -> [rows of each bare query]]; check(html, rows).

    headers: e.g. HX-Request, for what the Search button asks (the grid alone, the form stays on screen).
    """
    headers = headers or {}
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts, page_sqls = set(), []
    for url, params in requests:  # warm up, count the queries, keep the SQL
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params, headers=headers)
        assert response.status_code == 200, (label, url, params, response.status_code)
        counts.add(len(queries))
        page_sqls.append(selects(queries.captured_queries))
    server, cpu, htmls = [], [], []
    for url, params in requests:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url, params, headers=headers)
        server.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        htmls.append(response.content.decode())
    for floor in floors:  # warm up
        floor(conn)
    bare, rows_of = [], []
    for floor in floors:
        started = time.perf_counter()
        rows = floor(conn)
        bare.append(time.perf_counter() - started)
        rows_of.append(rows)
    for html, rows in zip(htmls, rows_of, strict=True):
        check(html, rows)
    replayed = [replay(conn, statements) for statements in page_sqls]
    return Row(label, p95(server), statistics.median(cpu) * 1000, p95(bare), p95(replayed), counts)


def grid(where, args, join=""):
    """The floor of a grid page: its 25 rows, with what the grid shows, in one query."""
    sql = GRID_SQL.format(where=where, join=join)
    return lambda conn: [conn.execute(sql, args).fetchall()]


def name_floor(value):
    """The member's memberships by the name's words (trigram index), then their claims: two queries."""
    from loyalty.models import normalise_search_text

    words = normalise_search_text(value).split()
    members = ("SELECT ms.id FROM loyalty_membership ms JOIN loyalty_member m ON m.id = ms.member_id WHERE "
               + " AND ".join(["m.search_name LIKE %s"] * len(words)))  # fmt: skip
    claims = GRID_SQL.format(where="c.membership_id = ANY(%s)", join="")

    def floor(conn):
        ids = [row[0] for row in conn.execute(members, [f"%{word}%" for word in words]).fetchall()]
        return [conn.execute(claims, [ids]).fetchall()]

    return floor


def grid_check(label):
    def check(html, rows):
        shown = [int(pk) for pk in ROW_LINK.findall(html)]
        expected = [row[0] for row in rows[0]]
        assert shown == expected, (label, shown[:5], expected[:5])
        assert shown, (label, "no claim listed")

    return check


def search_criteria(rng_seed=7):
    """(label, GET parameter, SAMPLES values, the floor of a value)."""
    from django.contrib.auth.models import User

    from claims.models import ClaimType, MembershipClaim
    from loyalty.models import Location, Member, Program
    from loyalty.selectors import member_name_condition

    rng = random.Random(rng_seed)
    picked = [rng.randrange(1, CLAIMS + 1) for _ in range(SAMPLES)]
    claims = {c.pk: c for c in MembershipClaim.objects.filter(pk__in=picked).select_related("membership__member")}
    sampled = [claims[pk] for pk in picked]
    stays = list(
        MembershipClaim.objects.filter(pk__in=[rng.randrange(1, CLAIMS + 1) for _ in range(SAMPLES * 4)],
                                       record_type="stay").exclude(central_reservation_number="")
        .values_list("property_reservation_number", "central_reservation_number")[:SAMPLES]
    )  # fmt: skip
    reservations = [pair[n % 2] for n, pair in enumerate(stays)]
    programs = list(Program.objects.filter(code__startswith="bc-").order_by("pk").values_list("pk", flat=True))
    types = list(ClaimType.objects.order_by("pk").values_list("pk", flat=True))
    owners = rng.sample(list(User.objects.filter(username__startswith="owner").values_list("pk", flat=True)), SAMPLES)
    hotels = rng.sample(list(Location.objects.filter(kind="hotel").values_list("pk", flat=True)), SAMPLES)
    names = [f"{c.membership.member.first_name} {c.membership.member.last_name}" for c in sampled]
    unique = sum(Member.objects.filter(member_name_condition(name)).count() == 1 for name in names)
    print(f"- names searched: {unique} of {len(names)} match exactly one member", flush=True)

    def each(values):
        return [values[n % len(values)] for n in range(SAMPLES)]

    return [
        ("name (member's first and last name)", "name", names, name_floor),
        ("program (membership type)", "program", each(programs), lambda v: grid("c.program_id = %s", [v])),
        ("membership_number", "membership_number", [c.membership.membership_number for c in sampled],
         lambda v: grid("upper(ms.membership_number) = upper(%s)", [v],
                        join="JOIN loyalty_membership ms ON ms.id = c.membership_id")),
        ("claim_type", "claim_type", each(types), lambda v: grid("c.claim_type_id = %s", [v])),
        ("source", "source", each(["back_office", "property", "web"]), lambda v: grid("c.source = %s", [v])),
        ("owner", "owner", each(owners), lambda v: grid("c.owner_id = %s", [v])),
        ("number (claim id)", "number", picked, lambda v: grid("c.id = %s", [v])),
        ("hotel (property)", "hotel", each(hotels), lambda v: grid("c.hotel_id = %s", [v])),
        ("reservation (property or central)", "reservation", each(reservations),
         lambda v: grid("(c.property_reservation_number = %s OR c.central_reservation_number = %s)", [v, v])),
    ]  # fmt: skip


def bench_search(client, conn, criteria, show=True):
    from django.urls import reverse

    url = reverse("claim-search")
    rows = []
    for label, param, values, floor_of in criteria:
        floors = [floor_of(value) for value in values]
        requests = [(url, {param: value}) for value in values]
        row = measure_page(client, conn, label, requests, floors, grid_check(label))
        if show:
            print(row.line(), flush=True)
        rows.append(row)
        # The Search button (htmx): the same criteria, answered with the grid alone.
        search = measure_page(client, conn, f"{label}: Search (htmx grid)", requests, floors, grid_check(label),
                              headers={"HX-Request": "true"})  # fmt: skip
        if show:
            print(search.line(), flush=True)
        rows.append(search)
    return rows


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


def bench_stays(program, today):
    from claims.stays import calculate_due_stays

    posted, floor_seconds = posting_floor(program, today)
    for table in ("loyalty_activity", "loyalty_ledgerentry", "claims_stay"):
        execute(f"VACUUM ANALYZE {table}")
    execute("CHECKPOINT")  # the floor's writes are flushed now, not during the calculation
    with timed() as took:
        run = calculate_due_stays()
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
        f"{STAYS:,} stays in {seconds:.1f} s: {run}; floor {posted / floor_seconds:,.0f} requests/s: "
        f"post_activities alone on the same {posted:,} requests, batches of {BATCH:,}, each committed; "
        f"{(posted / floor_seconds) / rate:.2f}× slower than the floor; target ≥ {TARGET_RATE:,}/s: {verdict}",
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
        for _ in range(SAMPLES):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params)
            server.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        assert response.status_code == 200 and not ROW_LINK.search(response.content.decode())
        report(
            f"fixed cost: {label}, p95", p95(server), "ms", f"median Python CPU {statistics.median(cpu) * 1000:.1f} ms"
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
        f"screen: {SAMPLES} requests each, as a CSR; bare = the same rows through psycopg. Target: "
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
    )
    passed = sum(r.verdict == "PASS" for r in rows)
    report("pages passing", f"{passed} of {len(rows)}", "", f"≤ {TARGET_RATIO}× bare and < {TARGET_MS} ms")
    bench_fixed_cost(client)
    bench_stays(programs[0], today)
    bench_portal_logins(client, criteria, rows)
    report("whole benchmark", time.perf_counter() - started, "s", f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
