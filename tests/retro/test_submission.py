"""Submitting a retro claim: the settings checks, the claim number, the immediate match."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django_fsm_log.models import StateLog

from loyalty.models import EarningRuleSet, LedgerEntry
from retro.models import RetroClaim, RetroClaimStatus, RetroSettings
from retro.services import submit_retro_claim
from tests.retro.factories import (
    RetroClaimKeyFactory,
    RetroTransactionFactory,
    key_values_of,
    member_in,
    recent_day,
    retro_program,
)

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def submit(membership, values, **kwargs):
    return submit_retro_claim(
        membership=membership, channel=RetroClaim.Channel.CSR, submitted_by=None, key_values=values, **kwargs
    )


def points_of(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric="base"))


def settings_of(program, **changes):
    RetroSettings.objects.filter(program=program).update(**changes)


@pytest.fixture
def program():
    return retro_program()


def test_a_claim_for_an_existing_transaction_is_matched_and_credited_at_once(program, csr):
    txn = RetroTransactionFactory(program=program)
    membership = member_in(program)
    claim = submit_retro_claim(membership=membership, channel="csr", submitted_by=csr, key_values=key_values_of(txn))
    assert claim.status == S.MATCHED
    assert claim.number == f"RC{claim.pk:08d}"
    txn.refresh_from_db()
    assert txn.claimed_by == claim and claim.matched_transaction == txn
    assert claim.activity.external_reference == claim.number and claim.activity.source == "retro"
    assert claim.activity.occurred_on == txn.occurred_on
    assert points_of(membership) == 420
    assert claim.attempt_count == 1 and claim.resolved_at is not None
    log = StateLog.objects.for_(claim).get()
    assert (log.source_state, log.state, log.by) == ("outstanding", "matched", csr)


def test_without_a_transaction_the_claim_waits_as_outstanding_until_its_window_ends(program):
    day = recent_day(5)
    values = {"location_code": "PAR01", "transaction_date": day.isoformat(), "reference": "NOPE", "amount": "3"}
    claim = submit(member_in(program), values)
    assert claim.status == S.OUTSTANDING
    assert claim.transaction_date == day
    assert claim.eligible_until == day + dt.timedelta(days=365)
    assert claim.key_values["reference"] == "NOPE"


def test_reprocessing_off_makes_the_first_attempt_the_only_one(program):
    settings_of(program, reprocessing_enabled=False)
    values = {"location_code": "PAR01", "transaction_date": recent_day().isoformat(), "reference": "X", "amount": "3"}
    claim = submit(member_in(program), values)
    assert claim.status == S.NOT_MATCHED
    assert "first attempt" in claim.failure_reason


def test_retro_disabled_is_refused(program):
    settings_of(program, retro_enabled=False)
    with pytest.raises(ValidationError, match="not enabled"):
        submit(member_in(program), key_values_of(RetroTransactionFactory(program=program)))
    assert not RetroClaim.objects.exists()


def test_the_submission_limit_counts_claims_in_the_window(program):
    settings_of(program, submission_limit_count=2, submission_limit_days=30)
    membership = member_in(program)
    for reference in ("A", "B"):
        values = {"location_code": "P", "transaction_date": recent_day().isoformat(), "reference": reference}
        submit(membership, {**values, "amount": "1"})
    with pytest.raises(ValidationError, match="limit of 2 retro claims in 30 days"):
        submit(membership, {**values, "reference": "C", "amount": "1"})
    submit(member_in(program), {**values, "reference": "C", "amount": "1"})  # another member is not limited


def test_a_transaction_older_than_the_maximum_age_is_refused(program):
    settings_of(program, max_transaction_age_days=30)
    values = {"location_code": "P", "transaction_date": recent_day(31).isoformat(), "reference": "R", "amount": "1"}
    with pytest.raises(ValidationError) as caught:
        submit(member_in(program), values)
    assert "up to 30 days old" in caught.value.message_dict["transaction_date"][0]


def test_before_enrolment_only_within_the_buffer(program):
    joined = recent_day(20)
    membership = member_in(program)
    membership.joined_on = joined
    membership.save()
    settings_of(program, enrolment_buffer_days=7)
    values = {"location_code": "P", "reference": "R", "amount": "1"}
    submit(membership, {**values, "transaction_date": (joined - dt.timedelta(days=7)).isoformat()})
    with pytest.raises(ValidationError) as caught:
        submit(membership, {**values, "transaction_date": (joined - dt.timedelta(days=8)).isoformat()})
    assert "enrolled on" in caught.value.message_dict["transaction_date"][0]


def test_missing_or_malformed_key_fields_are_field_errors(program):
    with pytest.raises(ValidationError) as caught:
        submit(member_in(program), {"location_code": "P", "transaction_date": "yesterday", "amount": "abc"})
    errors = caught.value.message_dict
    assert set(errors) >= {"reference", "transaction_date", "amount"}
    assert not RetroClaim.objects.exists()


def test_a_key_without_a_date_needs_the_transaction_date():
    program = retro_program("nodate", parts=("reference", "amount"))
    membership = member_in(program)
    with pytest.raises(ValidationError) as caught:
        submit(membership, {"reference": "R", "amount": "1"})
    assert "transaction_date" in caught.value.message_dict
    claim = submit(membership, {"reference": "R", "amount": "1"}, transaction_date=recent_day())
    assert claim.transaction_date == recent_day()


def test_no_rule_set_on_the_transaction_date_fails_the_claim_with_the_reason(program):
    EarningRuleSet.objects.filter(program=program).update(valid_from=recent_day(1))
    txn = RetroTransactionFactory(program=program)
    claim = submit(member_in(program), key_values_of(txn))
    assert claim.status == S.TRANSACTION_FAILED
    assert "No earning rule set is in force" in claim.failure_reason
    txn.refresh_from_db()
    assert txn.claimed_by is None  # back in the pool once the rules are fixed
    assert claim.activity is None


def test_a_type_without_key_definition_is_refused(program):
    with pytest.raises(ValidationError, match="not set up"):
        submit(member_in(program), {"reference": "R"}, transaction_type="stay")


def test_key_version_is_recorded(program):
    RetroClaimKeyFactory(program=program)  # existing definition, version 1
    claim = submit(member_in(program), key_values_of(RetroTransactionFactory(program=program)))
    assert claim.key_version == 1
