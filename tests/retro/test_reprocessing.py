"""The daily reprocessing pass: set-based, in batches, oldest transaction first, idempotent."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django_fsm_log.models import StateLog

from loyalty.models import Activity, EarningRuleSet, LedgerEntry
from retro import reprocessing
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings, RetroTransaction
from retro.services import reverse_retro_claim, submit_retro_claim
from retro.tasks import reprocess_retro_claims
from tests.retro.factories import RetroClaimFactory, RetroTransactionFactory, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def submit(membership, values):
    return submit_retro_claim(membership=membership, channel="portal", submitted_by=None, key_values=values)


def values(reference, day=None, amount="42.00"):
    day = day or recent_day()
    return {"location_code": "PAR01", "transaction_date": day.isoformat(), "reference": reference, "amount": amount}


def arrive(program, reference, day=None, **kwargs):
    """A transaction imported after the claim was made."""
    day = day or recent_day()
    moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=dt.UTC)
    return RetroTransactionFactory(program=program, reference=reference, occurred_at=moment, **kwargs)


def status(claim):
    return RetroClaim.objects.get(pk=claim.pk).status


@pytest.fixture
def program():
    return retro_program()


@pytest.fixture
def run_pass():
    return reprocessing.run_daily_pass


def test_outstanding_claims_match_transactions_that_arrived_later(program, run_pass):
    a, b = member_in(program), member_in(program)
    claim_a, claim_b = submit(a, values("A1")), submit(b, values("B1"))
    nothing = submit(member_in(program), values("NONE"))
    txn_a, txn_b = arrive(program, "A1", attributes={"till": "3"}), arrive(program, "B1")
    result = run_pass()
    assert (status(claim_a), status(claim_b), status(nothing)) == (S.MATCHED, S.MATCHED, S.OUTSTANDING)
    assert RetroTransaction.objects.get(pk=txn_a.pk).claimed_by_id == claim_a.pk
    assert RetroTransaction.objects.get(pk=txn_b.pk).claimed_by_id == claim_b.pk
    activity = RetroClaim.objects.get(pk=claim_a.pk).activity
    assert activity.external_reference == claim_a.number and activity.occurred_on == txn_a.occurred_on
    assert activity.attributes == {"till": "3"} and activity.amount == txn_a.amount
    assert result.counts[S.MATCHED] == 2 and result.counts[S.OUTSTANDING] == 1
    log = StateLog.objects.for_(claim_a).get()
    assert (log.transition, log.source_state, log.state) == ("mark_matched", "outstanding", "matched")
    assert RetroClaim.objects.get(pk=nothing.pk).attempt_count == 2


def test_two_claims_one_transaction_the_earlier_claim_wins_the_other_is_already_claimed(program, run_pass):
    first, second = submit(member_in(program), values("T")), submit(member_in(program), values("T"))
    txn = arrive(program, "T")
    run_pass()
    assert (status(first), status(second)) == (S.MATCHED, S.ALREADY_CLAIMED)
    assert RetroClaim.objects.get(pk=first.pk).matched_transaction == txn


def test_two_transactions_of_one_key_go_oldest_first_to_claims_in_order(program, run_pass):
    c1, c2 = submit(member_in(program), values("K")), submit(member_in(program), values("K"))
    newer = arrive(program, "K", day=recent_day(10))
    older = RetroTransactionFactory(
        program=program, reference="K", occurred_at=newer.occurred_at - dt.timedelta(hours=1)
    )
    run_pass()
    assert RetroClaim.objects.get(pk=c1.pk).matched_transaction == older
    assert RetroClaim.objects.get(pk=c2.pk).matched_transaction == newer


def test_claims_past_their_window_become_not_matched(program, run_pass):
    claim = submit(member_in(program), values("LATE"))
    RetroClaim.objects.filter(pk=claim.pk).update(eligible_until=dt.date.today() - dt.timedelta(days=2))
    arrive(program, "LATE")  # arrives too late to count
    result = run_pass()
    assert status(claim) == S.NOT_MATCHED
    assert result.counts[S.NOT_MATCHED] == 1
    assert StateLog.objects.for_(claim).get().transition == "mark_not_matched"


def test_turning_reprocessing_off_later_does_not_close_claims_submitted_while_it_was_on(program, run_pass):
    # Seed 001: the settings "at the time of the initial match attempt" decide (issue 9, item 21).
    claim = submit(member_in(program), values("OFF"))
    RetroSettings.objects.filter(program=program).update(reprocessing_enabled=False)
    arrive(program, "OFF")
    run_pass()
    assert status(claim) == S.MATCHED


def test_a_claim_stored_without_reprocessing_is_closed_by_the_pass(program, run_pass):
    claim = submit(member_in(program), values("NOPE"))
    RetroClaim.objects.filter(pk=claim.pk).update(reprocess=False)
    run_pass()
    assert status(claim) == S.NOT_MATCHED


def test_running_the_pass_twice_credits_once(program, run_pass):
    membership = member_in(program)
    claim = submit(membership, values("TWICE"))
    arrive(program, "TWICE")
    run_pass()
    run_pass()
    assert Activity.objects.filter(external_reference=claim.number).count() == 1
    assert sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric="base")) == 420


def test_a_pass_killed_half_way_is_rolled_back_per_batch_and_finished_by_the_next(program, run_pass, monkeypatch):
    claims = [submit(member_in(program), values(f"KILL{i}")) for i in range(4)]
    for i in range(4):
        arrive(program, f"KILL{i}")
    calls = {"n": 0}
    real = reprocessing.matching.match_retro_claim
    real_write = reprocessing._write_outcomes

    def die_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        return (real_write if args else real)(*args, **kwargs)

    monkeypatch.setattr(reprocessing, "_write_outcomes", lambda *a: die_on_second_batch(*a))
    monkeypatch.setattr(reprocessing.matching, "match_retro_claim", lambda **kw: die_on_second_batch(**kw))
    with pytest.raises(KeyboardInterrupt):
        run_pass(batch_size=2)
    monkeypatch.undo()
    done_before = sum(status(c) == S.MATCHED for c in claims)
    assert 0 < done_before < 4
    run_pass()
    assert all(status(c) == S.MATCHED for c in claims)
    assert Activity.objects.filter(source="retro").count() == 4


def test_posting_failures_become_transaction_failed_and_release_the_transaction(program, run_pass):
    claim = submit(member_in(program), values("FAIL"))
    EarningRuleSet.objects.filter(program=program).update(valid_from=recent_day(1))
    txn = arrive(program, "FAIL")
    run_pass()
    claim.refresh_from_db()
    assert claim.status == S.TRANSACTION_FAILED
    assert "No earning rule set" in claim.failure_reason
    assert RetroTransaction.objects.get(pk=txn.pk).claimed_by is None


def test_approval_required_reserves_in_the_pass(program, run_pass):
    RetroSettings.objects.filter(program=program).update(approval_required=True, auto_approve_max_points=10)
    claim = submit(member_in(program), values("APPR"))
    txn = arrive(program, "APPR")
    run_pass()
    claim.refresh_from_db()
    assert claim.status == S.PENDING_APPROVAL and claim.estimated_points == 420 and claim.activity is None
    assert RetroTransaction.objects.get(pk=txn.pk).claimed_by_id == claim.pk


def test_a_member_whose_reversal_freed_the_transaction_does_not_get_it_back(program, run_pass, supervisor):
    membership = member_in(program)
    txn = arrive(program, "REV")
    first = submit(membership, values("REV"))
    reverse_retro_claim(claim=first, by=supervisor, reason="wrong member")
    # A claim of this member for the same key, still Outstanding (submitted before the reversal; a new one
    # would be refused at submission).
    again = RetroClaimFactory(membership=membership, match_key=first.match_key, transaction_date=first.transaction_date)
    other = submit(member_in(program), values("REV"))
    assert other.status == S.MATCHED and other.matched_transaction == txn
    run_pass()
    assert status(again) == S.OUTSTANDING  # the only candidate is excluded for this member


def test_outcome_emails_go_out_after_the_pass(program, run_pass, django_capture_on_commit_callbacks):
    matched, expired = submit(member_in(program), values("MAIL")), submit(member_in(program), values("GONE"))
    RetroClaim.objects.filter(pk=expired.pk).update(eligible_until=dt.date.today() - dt.timedelta(days=1))
    arrive(program, "MAIL")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        run_pass()
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        f"Your retro claim {matched.number} has been credited",
        f"Your retro claim {expired.number} was not matched",
    ]


def test_the_command_and_the_beat_task_run_the_same_pass(program):
    claim = submit(member_in(program), values("CMD"))
    arrive(program, "CMD")
    err, out = io.StringIO(), io.StringIO()
    call_command("reprocess_retro_claims", stderr=err, stdout=out)
    assert status(claim) == S.MATCHED
    assert "1/1 claims" in err.getvalue()
    assert "1 outstanding claims processed" in out.getvalue()
    second = submit(member_in(program), values("TASK"))
    arrive(program, "TASK")
    reprocess_retro_claims.delay()
    assert status(second) == S.MATCHED


def test_the_schedule_is_a_periodic_task_admins_can_edit():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="retro.reprocess_retro_claims")
    assert task.enabled and task.crontab is not None
