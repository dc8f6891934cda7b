"""Screens at scale: member search and Retro Claim Activity p95 through Django, each beside its bare-SQL floor.

1,000,000 members (each with a membership, every fifth with a second) and 1,000,000 retro claims
spread over two years, loaded with COPY and kept between runs. Statuses, channels and programs are
tied to time as in life (Outstanding claims are recent, Not Matched ones old, the web-service channel
and one small program new), so a plan that reads an index from the wrong end shows up here.

Each page is requested through Django's test client as a signed-in CSR (middleware, session, view,
templates: the server's whole time, no network) for 60 different searches; its p95 is printed
beside the p95 of its bare SQL: the query that selects the page's rows, as the page sent it, run
alone through the same connection. The number of queries is the page's whole count (session and
user included).

The data lives in a database of its own (loyalty_bench_pages, or BENCH_DATABASE_URL's name + "_pages"):
its Outstanding claims must not join the daily pass that bench_retro_matching.py measures.
"""

import datetime as dt
import functools
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _setup  # noqa: E402
from _setup import django_on_bench_db, report  # noqa: E402

os.environ.setdefault("DEBUG", "false")  # as deployed: no per-query logging in the measured code
if os.environ.get("BENCH_DATABASE_URL"):
    base, _, options = os.environ["BENCH_DATABASE_URL"].partition("?")
    os.environ["BENCH_DATABASE_URL"] = f"{base}_pages" + (f"?{options}" if options else "")
else:
    _setup.BENCH_DATABASE = "loyalty_bench_pages"
django_on_bench_db()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from loyalty.demo.people_data import EMAIL_DOMAINS, LOCALE_WEIGHTS, LOCALES, ascii_slug  # noqa: E402
from loyalty.models import Member, Membership, Program, normalise_search_text  # noqa: E402
from retro.models import RetroClaim  # noqa: E402

MEMBERS = 1_000_000
CLAIMS = 1_000_000
DAYS = 730
SAMPLES = 60  # searches per page; p95 is the 57th slowest
TARGET_MS = 50
PROGRAMS = [  # code, name, membership number prefix
    ("bp-air", "Bench Air", "AIR"),
    ("bp-hotel", "Bench Hotels", "HTL"),
    ("bp-shop", "Bench Shops", "SHP"),
    ("bp-new", "Bench New", "NEW"),  # launched a month ago: few claims, all recent
]
SYLLABLES = "ka lo mi ren sa to vi ber gen hal jor mar nel pet ros sten tin wal ya zel dor fen gru lin".split()
# The statement that selects and orders a page's rows (for the member search: the ordered ids of its matches).
PAGE_ROWS = re.compile(r'^SELECT (?!COUNT).*?FROM "(loyalty_member|retro_retroclaim)".*ORDER BY ', re.S)


# --- data ----------------------------------------------------------------------------------------------


# Names repeat across a million members: normalise each spelling once.
slug = functools.lru_cache(maxsize=None)(ascii_slug)
search_name = functools.lru_cache(maxsize=None)(lambda first, last: normalise_search_text(f"{first} {last}"))


def person(rng, i):
    locale = rng.choices(list(LOCALE_WEIGHTS), weights=list(LOCALE_WEIGHTS.values()))[0]
    firsts, lasts, phone_format = LOCALES[locale]
    first = rng.choice(firsts)
    # A third of the names are the demo's common ones; the rest come from syllables, so the member base
    # has tens of thousands of surnames, common and rare, as a real one has.
    if rng.random() < 0.3:
        last = rng.choice(lasts)
    else:
        last = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))).capitalize()
    phone = phone_format.format(
        a=rng.randrange(100), b=rng.randrange(100), c=rng.randrange(100), d=rng.randrange(10),
        e=rng.randrange(1000), f=rng.randrange(1000),
    )  # fmt: skip
    if locale == "us":  # the demo's are fiction (555-01xx, a hundred numbers); a member base has real ones
        phone = f"+1 {rng.randrange(201, 990)}-{rng.randrange(200, 1000)}-{rng.randrange(10000):04d}"
    email = f"{slug(first)}.{slug(last)}.{i}@{rng.choice(EMAIL_DOMAINS)}"
    return first, last, email, phone


def copy_rows(table, columns, rows):
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def next_id(model):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
        return cursor.fetchone()[0] + 1


def reset_sequence(model):
    with connection.cursor() as cursor:
        table = model._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def without_indexes(models_):
    """Drop the models' Meta indexes (COPY then does not update trigram indexes row by row)."""
    with connection.schema_editor(atomic=False) as editor:
        for model in models_:
            existing = connection.introspection.get_constraints(connection.cursor(), model._meta.db_table)
            for index in model._meta.indexes:
                if index.name in existing:
                    editor.remove_index(model, index)


def ensure_indexes(models_):
    """(Re)build any Meta index a previous run dropped or never built, then refresh the statistics."""
    with connection.schema_editor(atomic=False) as editor:
        for model in models_:
            existing = connection.introspection.get_constraints(connection.cursor(), model._meta.db_table)
            for index in model._meta.indexes:
                if index.name not in existing:
                    editor.add_index(model, index)


def ensure_programs():
    programs = []
    for code, name, prefix in PROGRAMS:
        program, _ = Program.objects.get_or_create(
            code=code, defaults={"name": name, "kind": "retail", "currency_name": "Points", "time_zone": "UTC"}
        )
        programs.append((program, prefix))
    return programs


def load_members(programs):
    rng = random.Random(42)
    first_id = next_id(Member)
    member_ids = range(first_id, first_id + MEMBERS)
    columns = ["id", "member_number", "first_name", "last_name", "email", "phone", "enrolled_on", "status",
               "search_name"]  # fmt: skip

    def members():
        for n, pk in enumerate(member_ids):
            first, last, email, phone = person(rng, n)
            status = "active" if rng.random() < 0.95 else rng.choice(("suspended", "closed"))
            enrolled = dt.date(2015, 1, 1) + dt.timedelta(days=n * 3650 // MEMBERS)
            yield (pk, f"P{n:09d}", first, last, email, phone, enrolled, status, search_name(first, last))

    copy_rows(Member._meta.db_table, columns, members())
    main = programs[:3]
    newcomer, new_prefix = programs[3]

    first_membership = next_id(Membership)  # not inside the generator: the connection is busy with the COPY then

    def memberships():
        pk = first_membership
        for n, member_id in enumerate(member_ids):
            joined = dt.date(2015, 1, 1) + dt.timedelta(days=n * 3650 // MEMBERS)
            held = [main[n % 3]] + ([main[(n + 1) % 3]] if n % 5 == 0 else [])
            if n % 100 == 7:
                held.append((newcomer, new_prefix))
            for program, prefix in held:
                yield (pk, member_id, program.pk, f"{prefix}{n:010d}", "Individual", "", joined)
                pk += 1

    columns = ["id", "member_id", "program_id", "membership_number", "membership_type", "card_level", "joined_on"]
    copy_rows(Membership._meta.db_table, columns, memberships())
    reset_sequence(Member)
    reset_sequence(Membership)


# Statuses by the claim's age: (days younger than, [(status, weight), …]).
STATUS_BY_AGE = [
    (60, [("outstanding", 30), ("pending_approval", 5), ("matched", 50), ("already_claimed", 5),
          ("transaction_failed", 3), ("withdrawn", 2), ("rejected", 5)]),
    (180, [("outstanding", 10), ("matched", 70), ("already_claimed", 8), ("transaction_failed", 3),
           ("rejected", 4), ("reversed", 3), ("withdrawn", 2)]),
    (DAYS + 1, [("not_matched", 15), ("matched", 68), ("already_claimed", 8), ("transaction_failed", 3),
                ("rejected", 3), ("reversed", 3)]),
]  # fmt: skip
REASONS = {
    "transaction_failed": "The activity could not be posted: the member's account was closed on the transaction "
    "date, so no earning rule applies to it.",
    "not_matched": "No transaction matched before the claim window closed.",
    "rejected": "Receipt does not match the store's records.",
    "already_claimed": "The matching transaction was already credited to another member.",
}


def load_claims(programs):
    rng = random.Random(7)
    main_ids = list(Membership.objects.exclude(program=programs[3][0]).values_list("pk", "program_id"))
    new_ids = list(Membership.objects.filter(program=programs[3][0]).values_list("pk", "program_id"))
    now = timezone.now()
    first_id = next_id(RetroClaim)
    columns = [
        "id", "number", "program_id", "membership_id", "transaction_type", "channel", "submitted_at",
        "transaction_date", "key_values", "match_key", "key_version", "status", "failure_reason", "attempt_count",
        "last_attempt_at", "eligible_until", "resolved_at", "estimated_points", "reprocess", "member_message",
        "notifications_sent",
    ]  # fmt: skip
    weights = [(limit, [s for s, _ in table], [w for _, w in table]) for limit, table in STATUS_BY_AGE]

    def claims():
        for n in range(CLAIMS):
            pk = first_id + n
            age = dt.timedelta(days=DAYS) * (CLAIMS - n) / CLAIMS  # ids grow with time, as in life
            submitted = now - age + dt.timedelta(seconds=rng.randrange(60))
            days = age.days
            membership_id, program_id = rng.choice(new_ids if days < 30 and rng.random() < 0.1 else main_ids)
            statuses, status_weights = next((s, w) for limit, s, w in weights if days < limit)
            status = rng.choices(statuses, status_weights)[0]
            channel = rng.choices(("csr", "portal", "api"), (55, 30, 15 if days < 180 else 0))[0]
            day = submitted.date() - dt.timedelta(days=rng.randrange(1, 30))
            values = {
                "location_code": f"S{rng.randrange(500):03d}",
                "transaction_date": day.isoformat(),
                "reference": f"R{rng.randrange(10**7):07d}",
                "amount": f"{rng.randrange(100, 50000) / 100:.2f}",
            }
            key = "|".join((values["location_code"].lower(), values["transaction_date"], values["reference"].lower(),
                            values["amount"]))  # fmt: skip
            if status == "outstanding" and rng.random() < 0.02:
                key = f"!c{pk}"  # a key change left it without a value for the new part
            resolved = None if status in ("outstanding", "pending_approval") else submitted + dt.timedelta(hours=1)
            yield (
                pk, f"RC{pk:08d}", program_id, membership_id, "purchase", channel, submitted, day,
                json.dumps(values), key, 1, status, REASONS.get(status, ""), 1 + (days // 30 if status ==
                "outstanding" else 0), submitted, day + dt.timedelta(days=180), resolved,
                rng.randrange(100, 5000) if status == "pending_approval" else None, True, "", "[]",
            )  # fmt: skip

    copy_rows(RetroClaim._meta.db_table, columns, claims())
    reset_sequence(RetroClaim)


def ensure_data():
    programs = ensure_programs()
    models_ = [Member, Membership, RetroClaim]
    have_members = Member.objects.filter(member_number__startswith="P").count()
    have_claims = RetroClaim.objects.filter(program__code__startswith="bp-").count()
    started = time.perf_counter()
    if have_members < MEMBERS or have_claims < CLAIMS:
        with connection.cursor() as cursor:  # a half-loaded earlier run: start again (this database is the bench's)
            # The ledger refuses TRUNCATE (loyalty 0017) unless the session says so, as the tests' does: the
            # memberships' CASCADE reaches it, in this benchmark's own database.
            cursor.execute("SET loyalty.allow_ledger_truncate = on")
            for model in (RetroClaim, Membership, Member):
                cursor.execute(f"TRUNCATE {model._meta.db_table} CASCADE")
        without_indexes(models_)
        load_members(programs)
        loaded = time.perf_counter()
        load_claims(programs)
        copied = time.perf_counter()
        ensure_indexes(models_)
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        print(
            f"- data: {MEMBERS:,} members and {Membership.objects.count():,} memberships in "
            f"{loaded - started:.0f} s, {CLAIMS:,} retro claims in {copied - loaded:.0f} s (COPY), indexes and "
            f"VACUUM ANALYZE in {time.perf_counter() - copied:.0f} s",
            flush=True,
        )
    else:
        ensure_indexes(models_)
        print(f"- data: reused {have_members:,} members and {have_claims:,} retro claims", flush=True)
    return [program for program, _ in programs]


def csr_client():
    user, created = User.objects.get_or_create(username="bench-csr", defaults={"first_name": "Bench"})
    if created:
        user.groups.add(Group.objects.get(name="CSR"))
    client = Client()
    client.force_login(user)
    return client


# --- measurement ---------------------------------------------------------------------------------------


def p95(timings):
    return statistics.quantiles(timings, n=20)[18] * 1000


def page_sql(queries):
    """The statement that selects the page's rows, as the page sent it (None: the page lists no row)."""
    return next((query["sql"] for query in queries if PAGE_ROWS.search(query["sql"])), None)


def measure(client, label, url, params_list):
    """Each search once to warm up and capture its SQL, then timed through Django, then its bare page SQL."""
    sqls, counts = [], set()
    for params in params_list:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, params)
        assert response.status_code == 200, (label, params, response.status_code)
        sqls.append(page_sql(queries.captured_queries))
        counts.add(len(queries))
    server, cpu = [], []
    for params in params_list:
        started, started_cpu = time.perf_counter(), time.process_time()
        client.get(url, params)
        server.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    floor = []
    # As the page runs it (loyalty.pagination.serial_plans): one process per query.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        for sql in filter(None, sqls):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            floor.append(time.perf_counter() - started)
    shown = "/".join(str(c) for c in sorted(counts))
    verdict = "ok" if p95(server) < TARGET_MS else f"over the {TARGET_MS} ms target"
    listed_none = sqls.count(None)
    if listed_none:  # a filter that asks for more ("type more of the name"), or no match
        verdict += f"; {listed_none} of {len(sqls)} pages listed no row"
    floor = floor or [0.0, 0.0]
    report(
        label,
        p95(server),
        "ms",
        f"floor {p95(floor):.1f} ms (its page query alone); median {statistics.median(server) * 1000:.1f} ms, "
        f"of which Python {statistics.median(cpu) * 1000:.1f} ms CPU; {shown} queries per page; {verdict}",
        floor=p95(floor), floor_label="its page query alone", target=f"< {TARGET_MS} ms",
        ok=p95(server) < TARGET_MS, chart=label.split(",")[0],
    )  # fmt: skip
    return p95(server)


def member_samples(rng, count):
    ids = rng.sample(range(MEMBERS), count)
    numbers = [f"P{n:09d}" for n in ids]
    members = Member.objects.filter(member_number__in=numbers).prefetch_related("memberships")
    return list(members)


def four_letters(rng, member):
    words = [w for w in normalise_search_text(member.last_name).split() if len(w) >= 4]
    word = rng.choice(words) if words else normalise_search_text(member.first_name + member.last_name).replace(" ", "")
    start = rng.randrange(len(word) - 3)
    return word[start : start + 4]


def member_search_pages(rng, members):
    """(label, parameters of each search) of the member search, one search per sampled member."""

    def spaced_phone(member):
        digits = re.sub(r"\D", "", member.phone)[-9:]  # as said on the phone, without the country code
        return " ".join(re.findall(r"\d{1,3}", digits))

    return [
        ("4 letters of a name", [{"name": four_letters(rng, m)} for m in members]),
        ("member-number prefix (all but 2 digits)", [{"member_number": m.member_number[:-2]} for m in members]),
        ("membership number", [{"membership_number": m.memberships.all()[0].membership_number} for m in members]),
        ("e-mail", [{"email": m.email} for m in members]),
        ("phone (national digits, spaced)", [{"phone": spaced_phone(m)} for m in members]),
    ]


def activity_pages(rng, programs):
    """(label, parameters of each request) of Retro Claim Activity: filters, sorts and some of both."""
    statuses = ["outstanding", "not_matched", "pending_approval", "matched", "reversed", "withdrawn"]
    program_ids = [str(program.pk) for program in programs]
    numbers = list(
        RetroClaim.objects.filter(program__in=programs)
        .filter(pk__in=[rng.randrange(1, CLAIMS) for _ in range(SAMPLES * 2)])
        .values_list("membership__member__member_number", flat=True)[:SAMPLES]
    )
    today = timezone.localdate()
    named = member_samples(rng, SAMPLES)

    def each(**choices):
        """SAMPLES requests, the n-th taking the n-th value (round robin) of each parameter."""
        return [{name: values[n % len(values)] for name, values in choices.items()} for n in range(SAMPLES)]

    sorts = ["number", "-number", "submitted", "-submitted", "status", "-status", "member", "-member"]
    pages = [
        ("unfiltered, pages 1 to 5", each(page=["1", "2", "3", "4", "5"])),
        ("by status", each(status=statuses)),
        ("by program", each(program=program_ids)),
        ("by member number", [{"member": number} for number in numbers]),
        ("by member's first and last name", [{"member": f"{m.first_name} {m.last_name}"} for m in named]),
        ("by 4 letters of a member's name", [{"member": four_letters(rng, m)} for m in named]),
    ]
    pages += [(f"sorted by {sort}, pages 1 to 5", each(sort=[sort], page=["1", "2", "3", "4", "5"])) for sort in sorts]
    pages += [
        ("by status, sorted by each column", each(status=statuses, sort=sorts[:-1])),
        ("by program, sorted by each column", each(program=program_ids, sort=sorts[:-1])),
        ("by channel, sorted by each column", each(channel=["api", "portal", "csr"], sort=sorts[:-1])),
        ("needs key values, sorted by each column", each(key_values=["missing"], sort=sorts[:-1])),
        (
            "submitted in one week, sorted by each column",
            [
                {
                    "submitted_from": (today - dt.timedelta(days=7 + 11 * n)).isoformat(),
                    "submitted_to": (today - dt.timedelta(days=11 * n)).isoformat(),
                    "sort": sorts[n % len(sorts)],
                }
                for n in range(SAMPLES)
            ],
        ),
        ("by claim number", [{"claim": f"RC{rng.randrange(1, CLAIMS):08d}"} for _ in range(SAMPLES)]),
    ]
    return pages


def main():
    programs = ensure_data()
    client = csr_client()
    rng = random.Random(2024)
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    worst = []
    search = reverse("member-search")
    for label, params_list in member_search_pages(rng, member_samples(rng, SAMPLES)):
        worst.append(measure(client, f"member search, {label}, p95", search, params_list))
    activity = reverse("retro-claim-activity")
    for label, params_list in activity_pages(rng, programs):
        worst.append(measure(client, f"claim activity, {label}, p95", activity, params_list))
    report(
        "slowest page, p95",
        max(worst),
        "ms",
        f"target < {TARGET_MS} ms for every page",
        target=f"< {TARGET_MS} ms",
        ok=max(worst) < TARGET_MS,
    )


if __name__ == "__main__":
    main()
