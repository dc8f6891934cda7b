"""The booking engine's refund endpoint under load, served by gunicorn, beside a floor endpoint.

A database of its own, new each run (loyalty_bench_exchanges, or BENCH_DATABASE_URL's name + "_exchanges"):
one program, USERS partner clients (each a booking engine with its own API token), one membership with
points per redemption, and REDEMPTIONS captured redemptions of two tickets each, spread evenly over the
partners: what exchanges.services authorize then capture leave (redemption, tickets, authorize and capture
operations, the capture's redemption activity posted through loyalty.services, the lifecycle's log rows),
with the idempotency keys of both calls, made in bulk (bench/exchanges_data.py).

gunicorn serves `make serve`'s configuration (loyalty.settings_production, DEBUG off, 3 sync workers on
loopback, each keeping its database connection: CONN_MAX_AGE 60 s) with one addition, bench/server_urls.py:
/bench/floor/, a REST framework view with the exchanges API's authentication, permission and throttle
classes that does one INSERT (into bench_floor, made here). The API's per-partner throttle is raised
(API_RATE_PER_USER) so that no request of the run is throttled; requests carry X-Forwarded-Proto: https as
the TLS proxy's would.

locust (headless, bounded: USERS users, SECONDS a phase, loopback only) then runs these phases, each its own
run with the same users, every user a partner client; the first three in ROUNDS rounds (floor, refunds,
replays, then again), so that a slower minute of the machine falls on each figure and on its floor alike,
their figures summed over the rounds:
- floor: POST /bench/floor/, each user's next request as soon as it has its answer;
- first refunds, likewise: POST /api/exchanges/redemptions/<id>/refunds/ {"membership_number": …}, a full
  refund under a new Idempotency-Key, each of a redemption of its own (no two requests wait on one row lock);
- replays, likewise: the same key and body as a refund done in the previous phase (the stored answer);
- first refunds paced at the target rate, half the floor's requests/s, evenly spaced in time (locust_exchanges's
  paced_wait): the p99 "at that rate" (flat out, the latency is only the queue of USERS requests over 3
  workers). Each partner client sends them from enough users (paced_users) that a user's period between two
  requests is at least the p99 target, so that one slow answer does not hold back its user's next turns.
Requests/s and latencies are locust's (client side, on loopback). Afterwards the database is checked:
one refund operation and activity per refunded redemption, every award balance = opening − capture +
refund, no operation added by the replays.

Targets (the issue): refund requests/s ≥ 0.5× the floor's; refund p99 < 50 ms at that rate; a replay at
least twice as fast as a first refund (mean latency, same users, flat out).
"""

import csv
import json
import math
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, django_on_bench_db, fresh_database, report  # noqa: E402
from exchanges_data import TICKETS, USERS, done_refunds, make_data, refundable_work  # noqa: E402

SECONDS = int(os.environ.get("BENCH_EXCHANGES_SECONDS", "8"))
ROUNDS = int(os.environ.get("BENCH_EXCHANGES_ROUNDS", "3"))
PACED_SECONDS = ROUNDS * SECONDS  # the paced phase: one run as long as a figure's rounds together
WORKERS = int(os.environ.get("BENCH_EXCHANGES_WORKERS", "3"))  # `make serve`'s: sync workers, for 2 cores
WARM_UP = 10  # redemptions per user refunded before the phases, by the warm-up
TARGET_RATIO, TARGET_P99_MS, TARGET_REPLAY = 0.5, 50, 2.0
# `make serve` keeps each worker's connection (settings_production: CONN_MAX_AGE 60); BENCH_EXCHANGES_CONN_MAX_AGE=0
# tries a connection a request (the figures then say so).
CONN_MAX_AGE = os.environ.get("BENCH_EXCHANGES_CONN_MAX_AGE", "")
RATE = "1000000/min"  # the per-partner throttle during the run: no request throttled
LOCUST = ROOT / ".venv" / "bin" / "locust"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
# As the TLS proxy in front of production says (settings_production redirects plain HTTP to HTTPS).
PROXY = {"X-Forwarded-Proto": "https"}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment():
    env = dict(os.environ)
    for name in ("CELERY_TASK_ALWAYS_EAGER", "DEBUG", "CONN_MAX_AGE", "REDIS_URL"):
        env.pop(name, None)  # as `make serve` runs it
    env.update(
        DJANGO_SETTINGS_MODULE="bench.server_settings", SECRET_KEY=secrets.token_urlsafe(50),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", API_RATE_PER_USER=RATE,
        PYTHONPATH=str(ROOT),
    )  # fmt: skip
    if CONN_MAX_AGE:
        env["CONN_MAX_AGE"] = CONN_MAX_AGE
    return env


def start_server(port, log):
    """gunicorn as `make serve` starts it, with the benchmark's settings."""
    # No access log, as `make serve` (gunicorn's default): "--access-logfile /dev/null" would format a line a request.
    command = [str(GUNICORN), "loyalty.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS)]
    return subprocess.Popen(command, cwd=ROOT, env=server_environment(), stdout=log, stderr=log)


def wait_for(server, port):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode}) before answering")
        try:
            probe = urllib.request.Request(f"http://127.0.0.1:{port}/bench/floor/", headers=PROXY)
            urllib.request.urlopen(probe, timeout=2)
        except urllib.error.HTTPError:
            return  # any HTTP answer: it serves (401 without a token)
        except OSError:
            time.sleep(0.2)
        else:
            return
    raise RuntimeError("gunicorn did not answer within 60 s")


def stop_server(server):
    if server is None or server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def post(port, path, token, body, key=None):
    headers = {"Authorization": f"Token {token}", **PROXY, "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", json.dumps(body).encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201, (path, response.status)


def warm_up(port, partners, work):
    """Every worker through each path once or more (imports, first connections), off the figures."""

    def one(partner, token):
        for _ in range(WARM_UP):
            post(port, "/bench/floor/", token, {})
            pk, number, key = work[partner.pk].pop(0)
            body = {"membership_number": number}
            post(port, f"/api/exchanges/redemptions/{pk}/refunds/", token, body, key)
            post(port, f"/api/exchanges/redemptions/{pk}/refunds/", token, body, key)

    threads = [threading.Thread(target=one, args=pair) for pair in partners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Phase:
    def __init__(self, name, row):
        self.name = name
        self.requests, self.failures = int(row["Request Count"]), int(row["Failure Count"])
        self.rps = float(row["Requests/s"])
        self.mean = float(row["Average Response Time"])
        self.p50, self.p95, self.p99 = (float(row[p]) for p in ("50%", "95%", "99%"))

    @classmethod
    def rounds(cls, phases):
        """One figure from its rounds: requests and time summed, the mean weighted by requests; the
        percentiles are each round's worst (locust's summaries do not add up into one)."""
        whole = cls.__new__(cls)
        whole.name = phases[0].name
        whole.requests = sum(p.requests for p in phases)
        whole.failures = sum(p.failures for p in phases)
        whole.rps = whole.requests / sum(p.requests / p.rps for p in phases if p.rps)
        whole.mean = sum(p.mean * p.requests for p in phases) / whole.requests
        whole.p50, whole.p95, whole.p99 = (max(getattr(p, q) for p in phases) for q in ("p50", "p95", "p99"))
        return whole

    def summary(self):
        return (f"{self.rps:,.1f} requests/s, {self.requests:,} requests, {self.failures} failed; "
                f"latency mean {self.mean:.1f} ms, p50 {self.p50:.0f}, p95 {self.p95:.0f}, "
                f"p99 {self.p99:.0f} ms")  # fmt: skip


def paced_users(rate):
    """Users per partner client for the paced phase: the fewest whose period, each user's time between two
    requests at `rate` requests/s in all, is at least the p99 target. A user has one request at a time: one
    whose answer takes longer than its period sends its next turns late (with USERS users at ~250/s, a period
    of ~24 ms, the rate asked was not reached). With periods this long, only an answer slower than the target
    itself puts a user behind, and it then catches up (paced_wait)."""
    return max(1, math.ceil(TARGET_P99_MS / 1000 * rate / USERS))


def run_phase(name, port, partners, work, folder, rate=None, seconds=SECONDS, per_partner=1):
    """One locust run: a user per partner client, or `per_partner` users each, every one with its own share of
    the partner's work; flat out, or all of them together at `rate` requests/s."""
    plan = folder / f"{name}.json"
    users = [{"token": token, "work": work.get(partner.pk, [])[share::per_partner]}
             for partner, token in partners for share in range(per_partner)]  # fmt: skip
    rate_per_user = rate / len(users) if rate else None
    plan.write_text(json.dumps({"phase": name, "users": users, "rate_per_user": rate_per_user}))
    prefix = folder / name
    command = [str(LOCUST), "-f", str(Path(__file__).with_name("locust_exchanges.py")), "--headless",
               "-u", str(len(users)), "-r", str(len(users)), "-t", f"{seconds}s", "--host", f"http://127.0.0.1:{port}",
               "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "5"]  # fmt: skip
    env = {**os.environ, "BENCH_EXCHANGES_PLAN": str(plan)}
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 60)
    rows = list(csv.DictReader((prefix.parent / f"{name}_stats.csv").open()))
    row = next((r for r in rows if r["Name"] == name), None)
    if row is None:
        raise RuntimeError(f"locust ({name}) left no figures: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    failures = (prefix.parent / f"{name}_failures.csv").read_text().strip().splitlines()[1:4]
    phase = Phase(name, row)
    print(f"- {name}: {phase.summary()}" + (f"; first failures: {failures}" if failures else ""), flush=True)
    return phase


def refund_operations(program):
    from exchanges.models import PointsOperation

    return PointsOperation.objects.filter(redemption__program=program, kind="refund").count()


def check_ledger(program):
    """Each refunded redemption: one refund operation and one refund activity giving its points back; every
    membership's award balance is its opening less its capture plus its refund."""
    from django.db.models import Count, Sum

    from exchanges.models import PointsOperation, Redemption
    from loyalty.models import Activity, LedgerEntry, Membership

    operations = PointsOperation.objects.filter(redemption__program=program, kind="refund")
    refunded = Redemption.objects.filter(program=program, status="refunded")
    activities = Activity.objects.filter(membership__program=program, kind="refund")
    counts = operations.count(), refunded.count(), activities.count()
    assert len(set(counts)) == 1, counts
    per_redemption = set(operations.values("redemption").annotate(n=Count("pk")).values_list("n", flat=True))
    assert per_redemption <= {1}, per_redemption
    points = int(LedgerEntry.objects.filter(activity__in=activities).aggregate(total=Sum("quantity"))["total"] or 0)
    assert points == (refunded.aggregate(total=Sum("points_refunded"))["total"] or 0), points
    balances = int(LedgerEntry.objects.filter(membership__program=program).aggregate(total=Sum("quantity"))["total"])
    redemptions = Redemption.objects.filter(program=program).aggregate(captured=Sum("points_captured"),
                                                                      refunded=Sum("points_refunded"))  # fmt: skip
    opening = 2 * sum(p for _, p in TICKETS) * Membership.objects.filter(program=program).count()
    assert balances == opening - redemptions["captured"] + redemptions["refunded"], (balances, redemptions)
    return counts[0], points


def fewest_left(program, partners):
    """The fewest captured redemptions a partner has left (0: a user ran out during the phase)."""
    from exchanges.models import Redemption

    return min(Redemption.objects.filter(partner=partner, status="captured").count() for partner, _ in partners)


def main():
    started = time.perf_counter()
    fresh_database("exchanges")
    django_on_bench_db()
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    program, partners = make_data()
    from django.db import connection

    connection.close()  # the server's connections only, during the load
    port = free_port()
    connections = f"CONN_MAX_AGE={CONN_MAX_AGE}" if CONN_MAX_AGE else "CONN_MAX_AGE unset (60: make serve's)"
    print(f"- server: gunicorn loyalty.wsgi, {WORKERS} sync workers (make serve's), 127.0.0.1:{port}, "
          f"settings_production + /bench/floor/, {connections}, throttle "
          f"{RATE} per partner; load: locust headless (FastHttpUser), {USERS} users (one partner client each), "
          f"{SECONDS} s a phase, on loopback", flush=True)  # fmt: skip
    print(f"- rounds: {ROUNDS} of floor, first refunds and replays ({ROUNDS * SECONDS} s of each), each figure "
          f"summed over its rounds (percentiles: the worst round's); then the paced refunds, {PACED_SECONDS} s",
          flush=True)  # fmt: skip
    print("- phases: floor, first refunds and replays with no wait between a user's requests (the most the "
          "server gives), then first refunds paced at the target rate (half the floor's requests/s) for their "
          "p99", flush=True)  # fmt: skip
    server, errors, ran_out = None, [], []
    with tempfile.TemporaryDirectory(prefix="bench_exchanges_") as tmp, open(Path(tmp) / "server.log", "w") as log:
        folder = Path(tmp)
        try:
            server = start_server(port, log)
            wait_for(server, port)
            warm_up(port, partners, refundable_work(program, partners))
            floors, firsts, replays, by_replays = [], [], [], 0
            for _ in range(ROUNDS):
                floors.append(run_phase("floor", port, partners, {}, folder))
                firsts.append(run_phase("refund", port, partners, refundable_work(program, partners), folder))
                ran_out += ["refund"] if fewest_left(program, partners) == 0 else []
                replay_work = done_refunds(program, partners)
                before_replays = refund_operations(program)
                connection.close()
                replays.append(run_phase("replay", port, partners, replay_work, folder))
                by_replays += refund_operations(program) - before_replays
            floor, first, replay = Phase.rounds(floors), Phase.rounds(firsts), Phase.rounds(replays)
            if ROUNDS > 1:
                for phase in (floor, first, replay):
                    print(f"- {phase.name}, {ROUNDS} rounds together: {phase.summary()}", flush=True)
            rate = TARGET_RATIO * floor.rps
            spread = paced_users(rate)
            print(f"- paced: {rate:,.1f} requests/s asked of {USERS * spread} users ({spread} per partner client), "
                  f"one request every {1000 * USERS * spread / rate:.0f} ms each, all evenly spaced (one every "
                  f"{1000 / rate:.1f} ms)", flush=True)  # fmt: skip
            paced = run_phase("refund_paced", port, partners, refundable_work(program, partners), folder,
                              rate=rate, seconds=PACED_SECONDS, per_partner=spread)  # fmt: skip
            ran_out += ["refund_paced"] if fewest_left(program, partners) == 0 else []
            connection.close()
        except BaseException:
            log.flush()
            print((folder / "server.log").read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            stop_server(server)
            log.flush()
            errors = [line for line in (folder / "server.log").read_text().splitlines()
                      if "Traceback" in line or "[ERROR]" in line]  # fmt: skip
    refunded, points = check_ledger(program)
    print(f"- ledger checked: {refunded:,} redemptions refunded, each once ({points:,} points back through refund "
          f"activities, every award balance = opening − capture + refund); operations added by the "
          f"{replay.requests:,} replays: {by_replays}; server log errors: {len(errors)}", flush=True)  # fmt: skip
    for phase in dict.fromkeys(ran_out):
        print(f"- WARNING: a user ran out of redemptions during {phase}: raise REDEMPTIONS", flush=True)
    print(flush=True)
    ratio = first.rps / floor.rps
    verdict = "PASS" if ratio >= TARGET_RATIO and not first.failures and "refund" not in ran_out else "FAIL"
    report("first refund, requests/s", first.rps, "", f"floor {floor.rps:,.1f} requests/s (the token checked + "
           f"one INSERT), same users and server; {ratio:.2f}× the floor; target ≥ {TARGET_RATIO}×: {verdict}",
           floor=floor.rps, floor_label="token checked + one INSERT", target=f"≥ {TARGET_RATIO}× the floor",
           ok=verdict == "PASS")  # fmt: skip
    verdict = "PASS" if paced.p99 < TARGET_P99_MS and not paced.failures and paced.rps >= 0.95 * rate else "FAIL"
    report("first refund p99 at half the floor's rate", paced.p99, "ms",
           f"{paced.rps:,.1f} requests/s reached of {rate:,.1f} asked; p50 {paced.p50:.0f} ms, mean {paced.mean:.1f} "
           f"ms; floor p99 {floor.p99:.0f} ms at {floor.rps:,.1f} requests/s; target < {TARGET_P99_MS} ms: {verdict}",
           floor=floor.p99, floor_label="the floor's p99, flat out", target=f"< {TARGET_P99_MS} ms",
           ok=verdict == "PASS")  # fmt: skip
    speed = first.mean / replay.mean
    verdict = "PASS" if speed >= TARGET_REPLAY and not replay.failures and by_replays == 0 else "FAIL"
    report("idempotent replay, mean latency", replay.mean, "ms", f"first refund {first.mean:.1f} ms (same users, "
           f"no wait): {speed:.1f}× as fast; {replay.rps:,.1f} requests/s, {replay.rps / first.rps:.1f}× the first "
           f"refunds'; target ≥ {TARGET_REPLAY}×: {verdict}", floor=first.mean, floor_label="a first refund",
           target=f"≥ {TARGET_REPLAY}× as fast as a first refund", ok=verdict == "PASS")  # fmt: skip
    report("whole benchmark", time.perf_counter() - started, "s", f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
