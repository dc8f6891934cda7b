"""Member emails per outcome: sent after commit through Celery, once, only when the program wants them."""

import pytest
from django.core import mail
from django.db import transaction

from loyalty.models import EarningRuleSet
from retro.models import RetroSettings
from retro.notifications import send_outcome_email
from retro.services import reject_retro_claim, reverse_retro_claim, submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, recent_day, retro_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return retro_program()


def submit(program, values, membership=None, **member_fields):
    return submit_retro_claim(
        membership=membership or member_in(program, **member_fields),
        channel="portal",
        submitted_by=None,
        key_values=values,
    )


def missing(reference="NOPE"):
    return {"location_code": "PAR01", "transaction_date": recent_day().isoformat(), "reference": reference}


def test_a_matched_claim_gets_one_credited_email_after_commit(program, django_capture_on_commit_callbacks):
    txn = RetroTransactionFactory(program=program)
    with django_capture_on_commit_callbacks(execute=True):
        claim = submit(program, key_values_of(txn), email="zoe@example.com")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zoe@example.com"]
    assert message.subject == f"Your retro claim {claim.number} has been credited"
    assert txn.occurred_on.isoformat() in message.body and "Points" in message.body


def test_an_outstanding_claim_gets_the_submitted_email(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        claim = submit(program, {**missing(), "amount": "5"})
    assert [m.subject for m in mail.outbox] == [f"We received your retro claim {claim.number}"]
    assert claim.eligible_until.isoformat() in mail.outbox[0].body


def test_each_outcome_has_its_template(program, supervisor, django_capture_on_commit_callbacks):
    txn = RetroTransactionFactory(program=program)
    with django_capture_on_commit_callbacks(execute=True):
        submit(program, key_values_of(txn))
        already = submit(program, key_values_of(txn))
    assert mail.outbox[-1].subject == f"Your retro claim {already.number}: transaction already claimed"
    # A program whose rules start after the transaction (its set never valued anything, so it may move).
    late = retro_program("late")
    EarningRuleSet.objects.filter(program=late).update(valid_from=recent_day(1))
    with django_capture_on_commit_callbacks(execute=True):
        failed = submit(late, key_values_of(RetroTransactionFactory(program=late)))
    assert mail.outbox[-1].subject == f"Your retro claim {failed.number} could not be credited"
    assert "No earning rule set" in mail.outbox[-1].body
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    pending = submit(program, key_values_of(RetroTransactionFactory(program=program)))
    with django_capture_on_commit_callbacks(execute=True):
        reject_retro_claim(claim=pending, by=supervisor, reason="Receipt is not legible")
    assert mail.outbox[-1].subject == f"Your retro claim {pending.number} was not accepted"


def test_switched_off_outcomes_send_nothing(program, django_capture_on_commit_callbacks):
    RetroSettings.objects.filter(program=program).update(notify_matched=False, notify_submitted=False)
    with django_capture_on_commit_callbacks(execute=True):
        submit(program, key_values_of(RetroTransactionFactory(program=program)))
        submit(program, {**missing(), "amount": "1"})
    assert mail.outbox == []


def test_nothing_is_sent_when_the_submission_rolls_back(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            with transaction.atomic():
                submit(program, key_values_of(RetroTransactionFactory(program=program)))
                raise RuntimeError("the caller's transaction failed")
    assert callbacks == [] and mail.outbox == []


def test_a_retried_task_sends_the_email_once(program):
    claim = submit(program, key_values_of(RetroTransactionFactory(program=program)))
    assert send_outcome_email(claim_id=claim.pk, outcome="matched") is True
    assert send_outcome_email(claim_id=claim.pk, outcome="matched") is False
    assert len(mail.outbox) == 1


def test_a_member_without_email_is_skipped(program):
    claim = submit(program, key_values_of(RetroTransactionFactory(program=program)), email="")
    assert send_outcome_email(claim_id=claim.pk, outcome="matched") is False
    assert mail.outbox == []


def test_the_credited_email_says_how_many_points(program, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        submit(program, key_values_of(RetroTransactionFactory(program=program)), email="zoe@example.com")
    assert "credited with 420 Points" in mail.outbox[0].body


def test_a_reversal_emails_the_member_with_the_message_for_them_not_the_reason(
    program, supervisor, django_capture_on_commit_callbacks
):
    claim = submit(program, key_values_of(RetroTransactionFactory(program=program)), email="zoe@example.com")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reverse_retro_claim(
            claim=claim, by=supervisor, reason="Store flagged receipt as fraud",
            member_message="The store cancelled this purchase.",
        )  # fmt: skip
    [message] = mail.outbox
    assert message.subject == f"Your retro claim {claim.number}: the credit was taken back"
    assert "The store cancelled this purchase." in message.body and "fraud" not in message.body
