"""loyalty.services.activity_along: an activity posted by the statement of the change of state it goes with."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_fsm_log.models import StateLog

from loyalty import selectors
from loyalty.lifecycle import TransitionRefused, transition
from loyalty.models import Activity
from loyalty.services import activity_along, post_activity
from retro.models import RetroClaim, RetroClaimStatus
from tests.retro.factories import RetroClaimFactory, member_in, retro_program

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 1)


@pytest.fixture
def claim():
    return RetroClaimFactory(membership=member_in(retro_program()))


def _post(claim, reference="along-1", **overrides):
    post = dict(membership=claim.membership, kind=Activity.Kind.ADJUSTMENT, source="tests", occurred_on=DAY,
                external_reference=reference, description="Posted with the claim", entries={"base": 250})  # fmt: skip
    return activity_along(**{**post, **overrides})


def test_the_activity_and_its_entries_are_written_by_the_change_s_own_statement(claim, supervisor,
                                                                                django_assert_num_queries):  # fmt: skip
    posted = _post(claim)
    ContentType.objects.get_for_model(RetroClaim)  # cached once per process, as in a server
    with django_assert_num_queries(1):
        transition(claim, "mark_not_matched", by=supervisor, along=posted.writes)
    activity = Activity.objects.get(external_reference="along-1")
    assert posted.activity.pk == activity.pk and posted.activity.just_posted
    assert (activity.kind, activity.description, activity.occurred_on) == ("adjustment", "Posted with the claim", DAY)
    assert selectors.award_balance(claim.membership) == 250
    assert RetroClaim.objects.get(pk=claim.pk).status == RetroClaimStatus.NOT_MATCHED


def test_nothing_is_posted_when_the_change_is_refused(claim, supervisor):
    transition(RetroClaim.objects.get(pk=claim.pk), "mark_already_claimed", by=None)
    posted = _post(claim)
    with pytest.raises(TransitionRefused, match="changed by someone else meanwhile"):
        transition(claim, "mark_not_matched", by=supervisor, along=posted.writes)
    assert posted.activity.pk is None and not Activity.objects.filter(external_reference="along-1").exists()
    assert selectors.award_balance(claim.membership) == 0


def test_a_reference_already_posted_rolls_the_change_back(claim, supervisor):
    post_activity(membership=claim.membership, kind=Activity.Kind.ADJUSTMENT, source="tests", occurred_on=DAY,
                  external_reference="along-1", entries={"base": 100})  # fmt: skip
    with pytest.raises(IntegrityError, match="already posted"), transaction.atomic():
        transition(claim, "mark_not_matched", by=supervisor, along=_post(claim).writes)
    assert RetroClaim.objects.get(pk=claim.pk).status == RetroClaimStatus.OUTSTANDING
    assert not StateLog.objects.for_(claim).exists()
    assert selectors.award_balance(claim.membership) == 100  # the first post only


def test_it_is_validated_as_post_activity_is_and_is_given_its_entries(claim):
    with pytest.raises(ValidationError, match="is given its entries"):
        _post(claim, entries=None, kind=Activity.Kind.PURCHASE)
    with pytest.raises(ValidationError, match="not a points bucket"):
        _post(claim, entries={"miles": 5})
    with pytest.raises(ValidationError, match="longer than 100"):
        _post(claim, reference="x" * 101)
