"""A manual-handling case is taken, noted, and resolved or cancelled, each change logged by the lifecycle kit."""

import pytest
from django_fsm_log.models import StateLog

from exchanges import services
from exchanges.errors import ExchangeRefused
from exchanges.models import ManualHandlingCase, Redemption
from loyalty.lifecycle import TransitionRefused
from tests.exchanges.conftest import booking

BASE = "/api/exchanges"
pytestmark = pytest.mark.django_db


@pytest.fixture
def case(calls, payer, partner):
    redemption = calls.post(f"{BASE}/redemptions/", booking(payer)).data
    return services.report_failure(partner=partner, redemption_id=redemption["id"], step="emd_reassociation")


def test_an_agent_takes_notes_and_resolves_a_case(case, supervisor):
    services.take_case(case=case, by=supervisor)
    services.add_case_note(case=case, text="Called the airline desk.", by=supervisor)
    services.close_case(case=case, by=supervisor, outcome="resolve", reason="EMD reassociated by hand.")
    case = ManualHandlingCase.objects.get()
    assert case.status == "resolved" and case.assigned_to == supervisor and case.closed_at is not None
    assert [n.sequence for n in case.notes.all()] == [1, 2]
    assert list(StateLog.objects.order_by("id").values_list("transition", flat=True)) == ["take", "resolve"]


def test_a_case_is_cancelled_only_with_a_reason_and_not_resolved_before_it_is_taken(case, supervisor):
    with pytest.raises(ExchangeRefused):
        services.close_case(case=case, by=supervisor, outcome="cancel", reason=" ")
    with pytest.raises(TransitionRefused):
        services.close_case(case=case, by=supervisor, outcome="resolve", reason="Done")
    services.close_case(case=case, by=supervisor, outcome="cancel", reason="Duplicate report")
    assert ManualHandlingCase.objects.get().status == "cancelled"


def test_a_status_is_never_written_but_through_the_transition_writer(case):
    case.refresh_from_db()
    with pytest.raises(AttributeError):
        case.status = "resolved"
    assert Redemption.objects.get().status == "authorized"


def test_the_notes_are_numbered_once_there_are_some_and_the_empty_line_is_not_note_one(case, supervisor, client):
    client.force_login(supervisor)
    empty = client.get(f"/exchanges/manual-handling/{case.pk}/").content.decode()
    assert "No notes yet." in empty and "list-group-numbered" not in empty
    services.take_case(case=case, by=supervisor)
    services.add_case_note(case=case, text="Called the airline desk.", by=supervisor)
    noted = client.get(f"/exchanges/manual-handling/{case.pk}/").content.decode()
    assert "list-group-numbered" in noted and "No notes yet." not in noted
