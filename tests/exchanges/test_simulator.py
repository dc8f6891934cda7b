"""manage.py simulate_booking_engine plays a booking engine against a live server: every step prints its line,
the database shows each effect once (the replay refunds nothing), and a refusal or a bad token fails clearly."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from exchanges.models import ManualHandlingCase, PointsOperation, Redemption
from loyalty import selectors
from loyalty.demo import seed_demo
from loyalty.models import Activity
from tests.exchanges.conftest import give_points
from tests.factories import MembershipFactory, api_token

ROOT = Path(__file__).resolve().parents[2]
STEPS = [
    "1. Quote the fare", "2. Authorize 2 tickets", "3. Capture", "4. Exchange: may it proceed?",
    "5. Exchange: refund fare diff", "6. Refund by amount (MFOP)", "7. Replay the same request",
    "8. Same key, another body", "9. Soft failure after PONR",
]  # fmt: skip
# The server runs in another thread: it sees only committed rows.
live = pytest.mark.django_db(transaction=True)


def simulate(live_server, partner, payer, **options):
    out = StringIO()
    call_command(
        "simulate_booking_engine", url=live_server.url, token=api_token(partner.user),
        membership=payer.membership_number, program=payer.program.code, market="FR", stdout=out, **options,
    )  # fmt: skip
    return out.getvalue()


@live
def test_the_simulator_plays_every_step_and_each_effect_happens_once(live_server, partner, payer):
    out = simulate(live_server, partner, payer)

    lines = out.splitlines()
    for step in STEPS:
        assert any(line.startswith(step) for line in lines), step
    # The fare slider at FR's ratios: 300 EUR for 2 tickets, the middle points-plus-cash option.
    assert "taking 12,000 points + 150.00 EUR" in out
    assert "the cash part, 150.00 EUR, is left to the booking engine" in out
    assert "nothing refunded twice" in out and "urn:loyalty:problem:key-reused" in out
    redemption = Redemption.objects.get()
    case = ManualHandlingCase.objects.get()
    assert f"{live_server.url}/exchanges/manual-handling/{case.pk}/" in out
    assert (case.redemption, case.failed_step, case.status) == (redemption, "emd_reassociation", "open")
    # 1,500 (a quarter of the first ticket's 6,000) then 3,000 by amount: twice, not three times.
    assert (redemption.status, redemption.points_captured, redemption.points_refunded) == (
        "partly_refunded", 12_000, 4_500,
    )  # fmt: skip
    assert PointsOperation.objects.filter(kind="refund").count() == 2
    assert Activity.objects.filter(kind="refund").count() == 2
    assert selectors.award_balance(payer) == 50_000 - 12_000 + 4_500


@live
def test_a_step_that_is_refused_stops_the_run_with_its_reason(live_server, partner, payer):
    poor = MembershipFactory(program=payer.program)
    give_points(poor, 1_000)
    with pytest.raises(CommandError, match=r"Step 2 \(Authorize 2 tickets\) failed: .*insufficient_points"):
        simulate(live_server, partner, poor)
    assert not Redemption.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_simulator_runs_on_the_demo_with_its_defaults(live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_demo(members=12, skip={"retro", "flights", "claims"}, log=lambda message: None)
    cases = ManualHandlingCase.objects.count()
    out = StringIO()
    call_command("simulate_booking_engine", url=live_server.url, stdout=out)
    assert "Every step answered as expected" in out.getvalue()
    assert ManualHandlingCase.objects.count() == cases + 1


def run_command(*args):
    """The command as a person runs it, in its own process (it needs no database, only the server)."""
    env = {**os.environ, "DATABASE_URL": settings.DATABASE_URL}
    return subprocess.run(
        [sys.executable, "manage.py", "simulate_booking_engine", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@live
def test_a_bad_token_is_one_clear_line_not_a_traceback(live_server, partner):
    result = run_command("--url", live_server.url, "--token", "not-a-token")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"CommandError: {live_server.url} refused the token (Invalid token.): pass the partner client's --token, "
        "or load the demo (manage.py seed_demo, which also renews an expired demo token) for the demo token."
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_an_unreachable_server_is_one_clear_line():
    result = run_command("--url", "http://127.0.0.1:9", "--timeout", "5")
    assert result.returncode != 0
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("CommandError: Cannot reach http://127.0.0.1:9") and "make run" in line
