"""The transition writer: a state change and its log row together, the FSM's rules enforced, set-based in bulk."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from loyalty import sql
from loyalty.lifecycle import TransitionRefused, bulk_transition, transition
from loyalty.models import IdempotencyKey
from retro.models import RetroClaim, RetroClaimStatus
from tests.retro.factories import RetroClaimFactory, member_in, retro_program

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


@pytest.fixture
def program():
    return retro_program()


def stored(claim):
    return RetroClaim.objects.get(pk=claim.pk)


def test_a_transition_saves_the_state_its_fields_and_who_why_in_the_log(program, supervisor):
    claim = RetroClaimFactory(membership=member_in(program))
    claim.failure_reason = "No receipt"
    transition(claim, "mark_not_matched", by=supervisor, reason="Checked with the store", fields=["failure_reason"])
    again = stored(claim)
    assert (again.status, again.failure_reason) == (S.NOT_MATCHED, "No receipt")
    log = StateLog.objects.for_(claim).get()
    assert (log.source_state, log.state, log.transition, log.by, log.description) == (
        "outstanding", "not_matched", "mark_not_matched", supervisor, "Checked with the store"
    )  # fmt: skip


def test_a_transition_the_lifecycle_does_not_allow_is_refused_and_writes_nothing(program, supervisor):
    claim = RetroClaimFactory(membership=member_in(program))
    with pytest.raises(TransitionRefused, match="is Outstanding: it cannot be changed that way"):
        transition(claim, "reverse", by=supervisor)
    assert stored(claim).status == S.OUTSTANDING
    assert not StateLog.objects.for_(claim).exists()


def test_a_stale_object_cannot_overwrite_a_state_someone_else_changed(program, supervisor):
    claim = RetroClaimFactory(membership=member_in(program))
    elsewhere = stored(claim)
    transition(elsewhere, "mark_already_claimed", by=None)
    with pytest.raises(TransitionRefused, match="changed by someone else meanwhile"):
        transition(claim, "mark_not_matched", by=supervisor)
    assert claim.status == S.OUTSTANDING  # the object is left as it was, not half-changed
    assert stored(claim).status == S.ALREADY_CLAIMED
    assert StateLog.objects.for_(claim).count() == 1



def _row_along(key, user):
    return IdempotencyKey(user_id=user.pk, scope="tests", key=key, fingerprint="f", response_status=200,
                          response_body={})  # fmt: skip


def test_writes_along_a_transition_are_made_with_it_in_its_statement(program, supervisor, django_assert_num_queries):
    claim, row = RetroClaimFactory(membership=member_in(program)), _row_along("along-1", supervisor)
    with django_assert_num_queries(1):
        transition(claim, "mark_not_matched", by=supervisor, along=[sql.insert_along(row)])
    assert stored(claim).status == S.NOT_MATCHED and IdempotencyKey.objects.get(key="along-1").pk == row.pk


def test_writes_along_a_refused_change_are_not_made(program, supervisor):
    claim, row = RetroClaimFactory(membership=member_in(program)), _row_along("along-2", supervisor)
    transition(stored(claim), "mark_already_claimed", by=None)
    with pytest.raises(TransitionRefused, match="changed by someone else meanwhile"):
        transition(claim, "mark_not_matched", by=supervisor, along=[sql.insert_along(row)])
    assert row.pk is None and not IdempotencyKey.objects.filter(key="along-2").exists()

def test_bulk_transition_changes_only_rows_the_fsm_allows_and_logs_each_one(program):
    waiting = [RetroClaimFactory(membership=member_in(program)) for _ in range(3)]
    done = RetroClaimFactory(membership=member_in(program))
    transition(done, "mark_already_claimed", by=None)
    ids = [c.pk for c in waiting] + [done.pk]
    changed = bulk_transition(
        ids,
        "mark_not_matched",
        model=RetroClaim,
        by=None,
        reason={pk: f"reason {pk}" for pk in ids},
        row_values={"failure_reason": {pk: f"why {pk}" for pk in ids}},
        values={"attempt_count": 7},
    )
    assert sorted(changed) == sorted(c.pk for c in waiting)
    for claim in waiting:
        again = stored(claim)
        assert (again.status, again.failure_reason, again.attempt_count) == (S.NOT_MATCHED, f"why {claim.pk}", 7)
        log = StateLog.objects.for_(claim).get()
        assert (log.source_state, log.state, log.description) == ("outstanding", "not_matched", f"reason {claim.pk}")
    assert stored(done).status == S.ALREADY_CLAIMED
    assert StateLog.objects.for_(done).count() == 1


def test_bulk_transition_is_one_statement_however_many_rows(program, django_assert_num_queries):
    ids = [RetroClaimFactory(membership=member_in(program)).pk for _ in range(25)]
    ContentType.objects.get_for_model(RetroClaim)  # cached once per process, like in a running pass
    with django_assert_num_queries(1):
        bulk_transition(ids, "mark_not_matched", model=RetroClaim, by=None, reason="window closed")
    assert RetroClaim.objects.filter(status=S.NOT_MATCHED).count() == 25


def test_bulk_transition_takes_a_queryset(program):
    [RetroClaimFactory(membership=member_in(program)) for _ in range(2)]
    changed = bulk_transition(RetroClaim.objects.filter(program=program), "mark_not_matched", by=None, reason="x")
    assert len(changed) == 2 and StateLog.objects.count() == 2


def test_an_unknown_transition_is_a_programming_error(program):
    claim = RetroClaimFactory(membership=member_in(program))
    with pytest.raises(ValueError, match="no lifecycle transition named"):
        bulk_transition([claim.pk], "fly_away", model=RetroClaim, by=None)
    assert stored(claim).status == S.OUTSTANDING
