"""The membership claims search measured page by page (bench_claims.py, bench_growth_pages.py): each page through
Django's test client beside its floor, the same rows through psycopg; the criteria and their floors."""

import random
import re
import statistics
import time

from _setup import record
from claims_data import CLAIMS, SAMPLES

TARGET_MS, TARGET_RATIO = 150, 5
# Passes over a page's SAMPLES requests (and their floors): a p95 of 30 requests is their second slowest, which
# one collector pause or scheduling hiccup on either side decides; of 90, it is the fifth slowest.
ROUNDS = 3
PAGE_TARGET = f"≤ {TARGET_RATIO}× the floor, < {TARGET_MS} ms, a fixed query count"

ROW_LINK = re.compile(r'class="claim-link">(\d+)</a>')
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

    def record(self, chart):
        """The row as a figure for run_all.py's table and charts (its line is printed by bench_search)."""
        record(f"{self.label}, p95", self.page, "ms", floor=self.bare, floor_label="the same rows via psycopg",
               target=PAGE_TARGET, ok=self.verdict == "PASS", chart=chart)  # fmt: skip

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
    for floor in floors:  # warm up
        floor(conn)
    # Each page, then its floor: the machine's speed drifts over a run (±30% seen on this VM), and a
    # page and its floor measured side by side drift together.
    server, cpu, htmls, bare, rows_of = [], [], [], [], []
    for _ in range(ROUNDS):
        for (url, params), floor in zip(requests, floors, strict=True):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, params, headers=headers)
            server.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            htmls.append(response.content.decode())
            started = time.perf_counter()
            rows_of.append(floor(conn))
            bare.append(time.perf_counter() - started)
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
            row.record("claim search, p95")
        rows.append(row)
        # The Search button (htmx): the same criteria, answered with the grid alone.
        search = measure_page(client, conn, f"{label}: Search (htmx grid)", requests, floors, grid_check(label),
                              headers={"HX-Request": "true"})  # fmt: skip
        if show:
            print(search.line(), flush=True)
            search.record("claim search, Search button (htmx grid), p95")
        rows.append(search)
    return rows
