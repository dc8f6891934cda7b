"""A worker killed half-way (a real process, stopped by its pid with SIGKILL) and the job run again: every
claim ends in the right status, an import is published whole or not at all, and nothing is posted twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection

from claims.models import Stay
from claims.stays import calculate_due_stays
from loyalty.models import Activity
from retro.models import RetroClaim, RetroImportBatch, RetroTransaction
from retro.reprocessing import run_daily_pass
from retro.services import submit_retro_claim
from tests.claims.factories import earning, hotel_program, membership_in, stay
from tests.retro.factories import RetroTransactionFactory, member_in, recent_day, retro_program
from tests.retro.import_helpers import csv_text, good_row, program_with_purchase_key

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[1]
PRELUDE = "import django; django.setup()\n"


def test_database_url():
    settings = connection.settings_dict
    credentials = quote(settings["USER"] or "", safe="") + (
        f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    )
    host = quote(settings["HOST"] or "", safe="") + (f":{settings['PORT']}" if settings["PORT"] else "")
    return f"postgres://{credentials}@{host}/{settings['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def start_worker(code):
    """A real process on the test database, running `code` once Django is set up."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "loyalty.settings",
           "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false"}  # fmt: skip
    env.pop("REDIS_URL", None)
    return subprocess.Popen([sys.executable, "-c", PRELUDE + code], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def kill_half_way(process, progress, total, timeout=120):
    """SIGKILL the process once `progress()` is past zero and short of `total`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            _, errors = process.communicate()
            pytest.fail(f"the worker ended before it could be killed (exit {process.returncode}): {errors[-2000:]}")
        done = progress()
        if 0 < done < total:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL
            return done
        time.sleep(0.02)
    process.kill()
    pytest.fail("the worker made no progress in time")


def test_the_stay_calculation_killed_half_way_and_run_again_credits_every_stay_once():
    program = hotel_program()
    earning(program)
    memberships = [membership_in(program) for _ in range(20)]
    total = 3_000
    first = stay(program, membership=memberships[0], number="S0")
    Stay.objects.bulk_create([
        Stay(program=program, hotel_id=first.hotel_id, property_reservation_number=f"S{n}",
             arrival_date=first.arrival_date,
             departure_date=first.departure_date, status=first.status, room_revenue=first.room_revenue,
             currency="EUR", card_number=m.membership_number, membership=m, imported_at=first.imported_at)
        for n, m in ((n, memberships[n % 20]) for n in range(1, total))
    ])  # fmt: skip
    worker = start_worker("from claims.stays import calculate_due_stays\ncalculate_due_stays(batch_size=100)")
    done_when_killed = kill_half_way(worker, lambda: Stay.objects.filter(activity__isnull=False).count(), total)
    calculate_due_stays(batch_size=100)
    assert 0 < done_when_killed < total
    assert Stay.objects.filter(activity__isnull=False).count() == total
    assert Activity.objects.filter(kind="stay").count() == total
    assert Activity.objects.filter(kind="stay").values("external_reference").distinct().count() == total


def test_the_daily_retro_pass_killed_half_way_and_run_again_matches_every_claim_once():
    program = retro_program()
    total = 1_000
    day = recent_day().isoformat()
    members = [member_in(program) for _ in range(50)]
    for n in range(total):
        values = {"location_code": "PAR01", "transaction_date": day, "reference": f"K{n}", "amount": "42.00"}
        submit_retro_claim(membership=members[n % 50], channel="csr", submitted_by=None, key_values=values)
    assert RetroClaim.objects.filter(status="outstanding").count() == total
    for n in range(total):  # imported after the claims were made
        RetroTransactionFactory(program=program, reference=f"K{n}")
    worker = start_worker("from retro.reprocessing import run_daily_pass\nrun_daily_pass(batch_size=25)")
    kill_half_way(worker, lambda: RetroClaim.objects.filter(status="matched").count(), total)
    run_daily_pass(batch_size=25)
    assert RetroClaim.objects.filter(status="matched").count() == total
    assert Activity.objects.filter(retro_claim__isnull=False).count() == total
    assert RetroTransaction.objects.filter(claimed_by__isnull=False).count() == total


def test_an_import_killed_half_way_publishes_nothing_and_its_rerun_publishes_every_row_once(tmp_path):
    program = program_with_purchase_key()
    rows = 1_000_000  # the size the issue names
    path = tmp_path / "pos.csv"
    path.write_text(csv_text([good_row(n) for n in range(rows)]))
    arguments = [str(path), "--program", program.code, "--chunk-size", "20000", "--no-progress"]
    worker = start_worker(f"from django.core.management import call_command\n"
                          f"call_command('import_retro_transactions', *{arguments!r})")  # fmt: skip

    def staged():
        batch = RetroImportBatch.objects.order_by("-pk").first()
        return batch.rows_done if batch is not None else 0

    kill_half_way(worker, staged, rows)
    assert RetroTransaction.objects.count() == 0  # published whole or not at all
    call_command("import_retro_transactions", *arguments, verbosity=0)
    assert RetroTransaction.objects.count() == rows
    assert RetroTransaction.objects.values("source_id").distinct().count() == rows
