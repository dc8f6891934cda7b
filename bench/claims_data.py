"""The membership claims benchmark's data: 1,000,000 claims, 5,000,000 notes, stays, in SQL (bench_claims.py)."""

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402

CLAIMS = int(os.environ.get("BENCH_CLAIMS", "1000000"))
NOTES_PER_CLAIM = 5
MEMBERS = max(1000, CLAIMS // 5)
STAYS = max(1000, CLAIMS // 10)
NOT_DUE = STAYS // 10  # in house, or checked out inside the delay: the calculation leaves them
DAYS = 1095  # three years of claims
OWNERS = 50
SAMPLES = 30  # values per criterion (claims_pages.ROUNDS passes over them: 90 requests, p95 the 86th slowest)
LONG_NOTES = 50
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
    """A database of its own, new each run (bench/_setup.py)."""
    _setup.fresh_database("claims")


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
