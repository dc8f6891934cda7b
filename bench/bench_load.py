"""Load and reconciliation (issue 13): a realistic mix for SECONDS against gunicorn + PostgreSQL + a Celery worker
(Redis on a spare loopback port), then the reconciliation proves nothing was lost or given twice.

The mix (bench/locust_load.py): CSRs searching members and opening profiles (signed in, as in a browser),
CSRs submitting retro claims through the API (some racing for the same transactions), supervisors approving
flight claims (API) and membership claims (the claim screen's form), and the booking engine authorizing,
capturing and refunding points. It prints requests per second and p50/p95/p99 per endpoint and the errors
(there must be none: a refusal the product gives on purpose, such as "already claimed", is not an error),
then waits for the worker to finish what the run queued and runs every reconciliation check.
"""

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_bench_db, fresh_database, report  # noqa: E402
from bench_exchanges import LOCUST, free_port, stop_server  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
USERS = int(os.environ.get("BENCH_LOAD_USERS", "10"))
MEMBERS = 600
WORKERS = 3
ERRORS = "what went wrong in the run"  # one chart: failed requests, tracebacks, reconciliation violations
GUNICORN = Path(sys.executable).with_name("gunicorn")
CELERY = Path(sys.executable).with_name("celery")


def key_values(txn, fields):
    values = {}
    for field in fields:
        if field.field == "transaction_date":
            values["transaction_date"] = txn.occurred_on.isoformat()
        elif field.field == "amount":
            values["amount"] = f"{txn.amount:.2f}"
        elif field.field == "attribute":
            values[f"attr_{field.attribute_name}"] = str(txn.attributes.get(field.attribute_name, ""))
        else:
            values[field.field] = getattr(txn, field.field)
    return values


def prepare():
    """The demo (programs, rules, keys, members, flights, claims, the booking engine), then work for the mix."""
    from django.contrib.auth.models import User

    from loyalty.api_tokens import issue_token
    from loyalty.demo import seed_demo

    started = time.perf_counter()
    seed_demo(members=MEMBERS, log=lambda message: None)
    csr, supervisor = User.objects.get(username="csr"), User.objects.get(username="supervisor")
    plan = {
        "csr_token": issue_token(csr)[1],
        "supervisor_token": issue_token(supervisor)[1],
        "csr": ["csr", "csr-demo-pass"], "supervisor": ["supervisor", "supervisor-demo-pass"],
        "partner_token": _partner_token(),
        "members": _members(), "retro": _retro_work(), "flight_claims": _flight_claims(csr),
        "membership_claims": _membership_claims(csr), "bookings": _bookings(),
    }  # fmt: skip
    counts = {name: len(plan[name]) for name in ("members", "retro", "flight_claims", "membership_claims")}
    print(f"- data: the demo with {MEMBERS} members and work for the mix {counts} in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    return plan


def _partner_token():
    from exchanges.demo import DEMO_TOKEN

    return DEMO_TOKEN


def _members():
    from loyalty.models import Member

    return list(Member.objects.order_by("pk").values_list("member_number", "last_name")[:300])


def _retro_work():
    """Key values of unclaimed pool transactions with a member of their program: a fifth of them twice (races)."""
    from loyalty.selectors import active_memberships_of
    from retro.models import RetroClaimKey, RetroTransaction

    work = []
    for key in RetroClaimKey.objects.select_related("program").prefetch_related("fields"):
        fields = list(key.fields.order_by("position"))
        # The earliest members: a claim may go back only so far before a member's enrolment.
        members = list(active_memberships_of(key.program).order_by("joined_on")
                       .values_list("membership_number", flat=True)[:200])  # fmt: skip
        pool = RetroTransaction.objects.filter(program=key.program, transaction_type=key.transaction_type,
                                               claimed_by__isnull=True).order_by("pk")[:400]  # fmt: skip
        for n, txn in enumerate(pool):
            claim = {"transaction_type": key.transaction_type, "transaction_date": txn.occurred_on.isoformat(),
                     "key_values": key_values(txn, fields)}  # fmt: skip
            work.append({**claim, "membership_number": members[n % len(members)]})
            if n % 5 == 0:
                work.append({**claim, "membership_number": members[(n + 1) % len(members)]})
    return work


def _flight_claims(csr):
    """Pending flight claims: a new flown coupon for each airline member, claimed by a CSR."""
    import datetime as dt
    import random

    from django.utils import timezone

    from loyalty.models import Program
    from loyalty.selectors import active_memberships_of
    from retro.flights.demo import _airline_name, _coupon
    from retro.flights.services import submit_flight_claim
    from retro.models import Flight, FlightClaim

    program = Program.objects.get(kind="airline")
    rng = random.Random(13)
    memberships = list(active_memberships_of(program).select_related("member")[:150])
    day = timezone.localdate() - dt.timedelta(days=30)
    flights = Flight.objects.bulk_create(
        _coupon(program, 900_000 + n, day, rng, name=_airline_name(m)) for n, m in enumerate(memberships)
    )
    refusals = []
    for flight, membership in zip(flights, memberships, strict=True):
        try:
            submit_flight_claim(membership=membership, ticket_number=flight.ticket_number,
                                coupon_numbers=[flight.coupon_number], submitted_by=csr)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - a member who cannot earn: no claim, no work
            refusals.append(str(error)[:160])
    if refusals:
        print(f"- flight claims refused in the set-up: {len(refusals)}, e.g. {refusals[:2]}", flush=True)
    return list(FlightClaim.objects.filter(status="pending").values_list("number", flat=True))


def _membership_claims(csr):
    """Undecided limited adjustments entered by a CSR, for supervisors to approve on the claim screen."""
    from claims import services
    from claims.models import AdjustmentCode, ClaimType, RecordType
    from loyalty.models import Program
    from loyalty.selectors import active_memberships_of

    program = Program.objects.get(kind="hotel")
    code, kind = AdjustmentCode.objects.get(program=program, code="GOODWILL"), ClaimType.objects.get(code="GOODWILL")
    pks = []
    for membership in active_memberships_of(program)[:150]:
        values = {"claim_type": kind, "record_type": RecordType.LIMITED_ADJUSTMENT, "adjustment_code": code,
                  "base_points": 500}  # fmt: skip
        pks.append(services.open_claim(membership=membership, by=csr, values=values).pk)
    return pks


def _bookings():
    """Airline members with miles to redeem: the booking engine books, captures and refunds for them."""
    from loyalty import selectors
    from loyalty.models import Program

    program = Program.objects.get(kind="airline")
    rows = []
    for membership in selectors.active_memberships_of(program)[:200]:
        if selectors.award_balance(membership) >= 5_000:
            rows.append(membership.membership_number)
    return {"program": program.code, "memberships": rows}


def start_broker(folder):
    from tests.redis_broker import RedisServer

    server = RedisServer()
    server.start()
    return server


def environment(broker_url):
    env = {k: v for k, v in os.environ.items() if k not in {"CELERY_TASK_ALWAYS_EAGER", "DEBUG", "CONN_MAX_AGE"}}
    env.update(DJANGO_SETTINGS_MODULE="bench.load_settings", SECRET_KEY=secrets.token_urlsafe(50),
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend", REDIS_URL=broker_url,
               API_RATE_PER_USER="1000000/min", PYTHONPATH=str(ROOT), LOG_FORMAT="text")  # fmt: skip
    return env


def wait_until_served(server, port):
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({server.returncode})")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/?part=database", timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 60 s")


def drain(timeout=120):
    """Wait until the outbox is sent and the worker has run what it received."""
    from loyalty.models import OutboxMessage

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not OutboxMessage.objects.filter(sent_at__isnull=True).exists():
            time.sleep(3)  # the last tasks handed over finish
            return True
        from loyalty.background import relay_outbox

        relay_outbox()
        time.sleep(1)
    return False


def run_mix(port, plan, folder):
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps(plan))
    prefix = folder / "load"
    command = [str(LOCUST), "-f", str(Path(__file__).with_name("locust_load.py")), "--headless", "-u", str(USERS),
               "-r", str(USERS), "-t", f"{SECONDS}s", "--host", f"http://127.0.0.1:{port}", "--csv", str(prefix),
               "--only-summary", "--loglevel", "WARNING", "--stop-timeout", "10"]  # fmt: skip
    env = {**os.environ, "BENCH_LOAD_PLAN": str(plan_file)}
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=SECONDS + 120)
    rows = list(csv.DictReader((folder / "load_stats.csv").open()))
    failures = list(csv.DictReader((folder / "load_failures.csv").open()))
    return rows, failures


def main():
    started = time.perf_counter()
    fresh_database("load")
    django_on_bench_db()
    print(f"- machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    plan = prepare()
    from django.db import connections

    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = start_broker(folder)
        env = environment(broker.url)
        port = free_port()
        log = (folder / "server.log").open("w")
        server = subprocess.Popen([str(GUNICORN), "loyalty.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                                   str(WORKERS), "--access-logfile", "/dev/null"], cwd=ROOT, env=env, stdout=log,
                                  stderr=log)  # fmt: skip
        worker = subprocess.Popen([str(CELERY), "-A", "loyalty", "worker", "--concurrency", "1", "--loglevel",
                                   "WARNING"], cwd=ROOT, env=env, stdout=log, stderr=log)  # fmt: skip
        try:
            wait_until_served(server, port)
            print(
                f"- server: gunicorn, {WORKERS} sync workers, production settings; a Celery worker; Redis on "
                f"127.0.0.1:{broker.port}; load: locust headless, {USERS} users, {SECONDS} s",
                flush=True,
            )
            rows, failures = run_mix(port, plan, folder)
            os.environ["REDIS_URL"] = broker.url  # the relay below sends to the same broker
            from django.conf import settings

            from loyalty.celery import app

            app.conf.update(broker_url=broker.url, task_always_eager=False)
            settings.CELERY_TASK_ALWAYS_EAGER = False
            drained = drain()
        finally:
            stop_server(server)
            stop_server(worker)
            broker.stop()
            log.close()
        errors = (folder / "server.log").read_text().count("Traceback")
    _print_figures(rows, failures)
    _reconcile(drained, errors)
    report("whole benchmark", time.perf_counter() - started, "s")


def _print_figures(rows, failures):
    print("\n| endpoint | requests | failures | requests/s | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['Name']} | {int(row['Request Count']):,} | {row['Failure Count']} | "
              f"{float(row['Requests/s']):.1f} | {row['50%']} | {row['95%']} | {row['99%']} |")  # fmt: skip
    print(flush=True)
    total = next((r for r in rows if r["Name"] == "Aggregated"), None)
    failed = int(total["Failure Count"]) if total else -1
    report("requests failed", failed, "", "target 0: " + ("PASS" if failed == 0 else f"FAIL {failures[:3]}"),
           target="0", ok=failed == 0, chart=ERRORS)  # fmt: skip


def _reconcile(drained, errors):
    from django.db.models import Count

    from claims.models import MembershipClaim
    from exchanges.models import PointsOperation
    from loyalty.reconciliation import run_reconciliation
    from retro.models import FlightClaim, RetroClaim

    retro = dict(RetroClaim.objects.values_list("status").annotate(n=Count("id")).order_by())
    operations = dict(PointsOperation.objects.values_list("kind").annotate(n=Count("id")).order_by())
    print(
        f"- what the run did: retro claims {retro}; flight claims approved "
        f"{FlightClaim.objects.filter(status='approved').count()}; membership claims approved "
        f"{MembershipClaim.objects.filter(decision='approved').count()}; points operations {operations}"
    )

    run = run_reconciliation(trigger="command", mail=False)
    for finding in run.findings.all():
        print(f"- reconciliation, {finding.check_name}: {finding.violations} violation(s)"
              + (f" e.g. {finding.examples[:2]}" if finding.violations else ""))  # fmt: skip
    report("outbox drained after the run", "yes" if drained else "NO", "")
    report("server tracebacks", errors, "", "target 0: " + ("PASS" if errors == 0 else "FAIL"), target="0",
           ok=errors == 0, chart=ERRORS)  # fmt: skip
    verdict = "PASS" if run.violations == 0 else "FAIL"
    report("reconciliation violations", run.violations, "", f"{run.checks_run} checks; target 0: {verdict}",
           target="0", ok=run.violations == 0, chart=ERRORS)  # fmt: skip


if __name__ == "__main__":
    main()
