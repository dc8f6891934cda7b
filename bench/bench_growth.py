"""Growth (issue 13): how the daily retro pass's time grows with the data, at 1× and 10×.

1× is 10,000 Outstanding claims against 100,000 pool transactions; 10× is 100,000 claims against 1,000,000
(the size bench_retro_matching measures), a third of the claims matchable each time. Same program, same
machine, same run; the pass must grow no faster than the data (10× data ≤ 11× time).

Not yet here (issue 13): the member search, the profile's Activities tab and the claims searches at 1× and
10× (bench_pages and bench_claims measure them at one size: 1,000,000 members and claims).
"""

import time

from _setup import django_on_bench_db, fresh_database, report

SCALES = [("1×", 100_000, 10_000), ("10×", 1_000_000, 100_000)]
TARGET = 11.0


def run_at(matching, program, today, transactions, claims):
    matching.TRANSACTIONS, matching.CLAIMS, matching.MATCHABLE = transactions, claims, claims // 3
    matching.reset_claims(program, today)  # the last scale's claims let go of their transactions first
    loaded = matching.ensure_transactions(program, today)
    matching.reset_claims(program, today)
    matching.checkpoint()
    from retro import reprocessing

    started = time.perf_counter()
    result = reprocessing.run_daily_pass()
    seconds = time.perf_counter() - started
    assert result.counts.get("matched", 0) == claims // 3, result.counts
    return seconds, loaded, result


def main():
    started = time.perf_counter()
    fresh_database("growth")
    django_on_bench_db()
    import bench_retro_matching as matching
    from django.utils import timezone

    program = matching.ensure_program()
    today = program.local_date(timezone.now())
    times = {}
    for label, transactions, claims in SCALES:
        seconds, loaded, result = run_at(matching, program, today, transactions, claims)
        times[label] = seconds
        report(f"daily pass at {label}", seconds, "s",
               f"{claims:,} Outstanding claims against {transactions:,} transactions ({loaded}): {result}",
               chart="daily pass")  # fmt: skip
    growth = times["10×"] / times["1×"]
    verdict = "PASS" if growth <= TARGET else "FAIL"
    report(
        "daily pass, time at 10× data / time at 1×",
        growth,
        "×",
        f"target ≤ {TARGET:.0f}×: {verdict}",
        target=f"≤ {TARGET:.0f}×",
        ok=verdict == "PASS",
    )
    report("whole benchmark", time.perf_counter() - started, "s")


if __name__ == "__main__":
    main()
