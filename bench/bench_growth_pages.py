"""Pages as the data grows: member search, the profile's Activities tab and the claims searches at 1× and 10×.

Each scale is a database of its own, made in a process of its own (this script again, with --scale):
- 1×: 100,000 membership claims with 500,000 notes, 20,000 members, 1,000,000 ledger entries;
- 10×: 1,000,000 claims with 5,000,000 notes, 200,000 members, 10,000,000 ledger entries
(bench/claims_data.py's members, memberships, claims and notes, at BENCH_CLAIMS = the scale's claims; then
activities of two ledger entries each, spread evenly over the memberships and three years, with INSERT …
SELECT and the indexes built once afterwards).

At each scale the same pages are requested through Django's test client as a signed-in CSR (the server's
whole time, no network), SAMPLES different requests a page, in claims_pages.ROUNDS passes: member search by
name, member number and membership number; the profile's Activities tab (the htmx partial its tab loads);
every claims search criterion, as a page and as the Search button's grid (bench/claims_pages.py). Target,
what "flat" means here: a page's p95 at 10× data at most GROWTH_TARGET × its p95 at 1× (an index lookup
grows with the log of the table, not with the table), with the same number of queries at both scales.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _setup  # noqa: E402
from _setup import record, report  # noqa: E402

SCALES = [("1×", 100_000), ("10×", 1_000_000)]  # label, membership claims
ENTRIES_PER_CLAIM = 10  # ledger entries: 1,000,000 at 1×, 10,000,000 at 10×
GROWTH_TARGET = 1.5
RESULT = "RESULT "  # the child's last line: its figures as JSON


# --- one scale (the child process) ---------------------------------------------------------------------


def load_ledger(entries):
    """entries / 2 activities of two ledger entries (base and bonus points) over every membership."""
    from claims_data import IndexesRebuilt, execute, scalar

    started = time.perf_counter()
    memberships = scalar("SELECT count(*) FROM loyalty_membership")
    first = scalar("SELECT min(id) FROM loyalty_membership")
    execute("SET session_replication_role = replica")  # bulk load: foreign keys right by construction
    execute("SET maintenance_work_mem = '512MB'")
    with IndexesRebuilt("loyalty_activity", "loyalty_ledgerentry"):
        execute(
            """INSERT INTO loyalty_activity (membership_id, kind, occurred_on, posted_at, source, external_reference,
                                             description, currency, attributes, explanation)
               SELECT %(first)s + g %% %(memberships)s, (ARRAY['flight', 'stay', 'purchase'])[1 + g %% 3],
                      current_date - (g * 7919 %% 1095)::int, now() - make_interval(days => (g * 7919 %% 1095)::int),
                      'bench', 'bench:' || g, 'Bench activity', '', '{}', '{}'
               FROM generate_series(0::bigint, %(activities)s - 1) g  -- bigint: g * 7919 passes 2^31
            """,
            {"first": first, "memberships": memberships, "activities": entries // 2},
        )
        execute(
            """INSERT INTO loyalty_ledgerentry (activity_id, membership_id, metric, quantity, created_at)
               SELECT a.id, a.membership_id, e.metric, e.quantity, a.posted_at
               FROM loyalty_activity a CROSS JOIN (VALUES ('base', 500), ('bonus', 100)) AS e (metric, quantity)
               WHERE a.source = 'bench'"""
        )
    execute("SET session_replication_role = DEFAULT")
    execute("RESET maintenance_work_mem")
    for table in ("loyalty_activity", "loyalty_ledgerentry"):
        execute(f"VACUUM ANALYZE {table}")
    execute("CHECKPOINT")
    count = scalar("SELECT count(*) FROM loyalty_ledgerentry")
    print(f"- ledger: {count:,} entries of {count // 2:,} activities in {time.perf_counter() - started:.0f} s",
          flush=True)  # fmt: skip


def member_pages():
    """(label, url, [params], headers) of the member screens, one request per sampled member."""
    import random

    from claims_data import SAMPLES
    from django.urls import reverse

    from loyalty.models import Membership

    rng = random.Random(11)
    last = Membership.objects.order_by("-pk").values_list("pk", flat=True).first()
    picked = [rng.randrange(1, last + 1) for _ in range(SAMPLES)]
    sampled = list(Membership.objects.filter(pk__in=picked).select_related("member").order_by("pk"))
    search = reverse("member-search")
    return [
        ("member search, name", [(search, {"name": f"{m.member.first_name} {m.member.last_name}"}) for m in sampled]),
        ("member search, member number", [(search, {"member_number": m.member.member_number}) for m in sampled]),
        ("member search, membership number", [(search, {"membership_number": m.membership_number}) for m in sampled]),
        ("profile, Activities tab", [
            (reverse("member-profile-tab", args=[m.member.member_number, "activities"]),
             {"membership": m.membership_number})
            for m in sampled
        ]),
    ]  # fmt: skip


def one_scale(claims):
    os.environ["BENCH_CLAIMS"] = str(claims)  # read by claims_data when it is imported, below
    _setup.fresh_database(f"growth_pages_{claims}")
    _setup.django_on_bench_db()
    import claims_pages
    from claims_data import ensure_reference_data, load_data
    from django.contrib.auth.models import User
    from django.test import Client
    from django.utils import timezone

    programs, _ = ensure_reference_data()
    load_data(programs, timezone.localdate())
    load_ledger(claims * ENTRIES_PER_CLAIM)
    client = Client()
    client.force_login(User.objects.get(username="bench-csr"))
    conn = claims_pages.bare_connection()
    figures = {}
    for label, requests in member_pages():
        headers = {"HX-Request": "true"} if "tab" in label else None
        row = claims_pages.measure_page(client, conn, label, requests, [lambda c: [[]]] * len(requests),
                                        lambda html, rows: None, headers=headers)  # fmt: skip
        figures[label] = {"p95": row.page, "queries": sorted(row.counts)}
    for row in claims_pages.bench_search(client, conn, claims_pages.search_criteria(), show=False):
        figures[f"claims search, {row.label}"] = {"p95": row.page, "queries": sorted(row.counts)}
    conn.close()
    print(RESULT + json.dumps(figures), flush=True)


# --- both scales, compared (the parent) ----------------------------------------------------------------


def run_scale(label, claims):
    """Run one scale in its own process; pass its lines through, return its figures."""
    print(f"\nAt {label}: {claims:,} claims, {claims * ENTRIES_PER_CLAIM:,} ledger entries\n", flush=True)
    proc = subprocess.Popen([sys.executable, __file__, "--scale", str(claims)], stdout=subprocess.PIPE, text=True,
                            cwd=HERE)  # fmt: skip
    figures = None
    for line in proc.stdout:
        if line.startswith(RESULT):
            figures = json.loads(line[len(RESULT) :])
        elif line.startswith("- "):
            print(line, end="", flush=True)
    if proc.wait() != 0 or figures is None:
        sys.exit(f"the {label} scale failed (exit {proc.returncode})")
    return figures


def main():
    started = time.perf_counter()
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    small, large = (run_scale(label, claims) for label, claims in SCALES)
    print(f"\nPage p95 at 1× and 10× data; target: 10× ≤ {GROWTH_TARGET}× the 1× time, the same query count.\n\n"
          "| page | p95 at 1× ms | p95 at 10× ms | growth | queries 1× / 10× | verdict |\n"
          "|---|---:|---:|---:|---:|---|", flush=True)  # fmt: skip
    worst, failed = 0.0, []
    for label, at_1 in small.items():
        at_10 = large[label]
        growth = at_10["p95"] / at_1["p95"]
        same = at_1["queries"] == at_10["queries"] and len(at_1["queries"]) == 1
        ok = growth <= GROWTH_TARGET and same
        worst = max(worst, growth)
        failed += [] if ok else [label]
        queries = f"{'/'.join(map(str, at_1['queries']))} / {'/'.join(map(str, at_10['queries']))}"
        print(f"| {label} | {at_1['p95']:.1f} | {at_10['p95']:.1f} | {growth:.2f}× | {queries} | "
              f"{'PASS' if ok else 'FAIL'} |", flush=True)  # fmt: skip
        record(f"{label}, p95 at 10× / at 1×", round(growth, 2), "×", target=f"≤ {GROWTH_TARGET}×, same queries",
               ok=ok, chart="page time at 10× data / at 1×")  # fmt: skip
    print(flush=True)
    report("pages, largest growth of p95 from 1× to 10× data", round(worst, 2), "×",
           f"{len(small) - len(failed)} of {len(small)} pages flat; target ≤ {GROWTH_TARGET}× with the same query "
           f"count: {'PASS' if not failed else 'FAIL: ' + ', '.join(failed)}",
           target=f"≤ {GROWTH_TARGET}×", ok=not failed)  # fmt: skip
    report("whole benchmark", time.perf_counter() - started, "s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--scale"]:
        one_scale(int(sys.argv[2]))
    else:
        main()
