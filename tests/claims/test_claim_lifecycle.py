"""A membership claim from entry to close and reopen: its number, notes chronology, statuses, the lamp."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from django_fsm_log.models import StateLog

from claims import services
from claims.models import ClaimNote, ClaimSource, ClaimStatus, MembershipClaim, NoteActivityType, RecordType
from claims.selectors import claims_lamp
from loyalty.models import Location
from tests.claims.factories import open_stay_claim, stay_values
from tests.factories import LocationFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_claim_gets_its_number_date_snapshot_and_opening_note(csr, membership):
    claim = open_stay_claim(membership, csr)
    assert claim.pk is not None and claim.number == claim.pk
    assert claim.status == ClaimStatus.OPEN and claim.decision == "none"
    assert claim.claim_date == timezone.localdate()
    assert claim.source == ClaimSource.BACK_OFFICE
    assert claim.submitted_by == csr and claim.owner == csr
    assert claim.joined_on == membership.joined_on
    [note] = claim.notes.all()
    assert (note.sequence, note.text, note.get_event_display(), note.author) == (1, "Claim opened", "Claim opened", csr)


def test_notes_are_numbered_in_sequence_and_keep_their_activity(csr, supervisor, membership):
    claim = open_stay_claim(membership, csr)
    call = NoteActivityType.objects.get(code="CALL-PROPERTY")
    services.add_note(claim=claim, by=csr, activity_type=call, text="Called the front office.")
    services.add_note(claim=claim, by=supervisor, activity_type=None, text="Folio received.")
    notes = list(claim.notes.order_by("sequence"))
    assert [(n.sequence, n.activity_label, n.author) for n in notes] == [
        (1, "Claim opened", csr), (2, "Call Property for Verification", csr), (3, "Note", supervisor),
    ]  # fmt: skip


def test_an_empty_note_is_refused(csr, membership):
    claim = open_stay_claim(membership, csr)
    with pytest.raises(ValidationError) as error:
        services.add_note(claim=claim, by=csr, activity_type=None, text="   ")
    assert error.value.message_dict == {"text": ["Write the note."]}


def test_notes_are_never_edited_or_deleted_even_by_sql(csr, membership):
    claim = open_stay_claim(membership, csr)
    note = claim.notes.get()
    with pytest.raises(RuntimeError):
        note.save()
    with pytest.raises(RuntimeError):
        note.delete()
    for statement in ("UPDATE claims_claimnote SET text = 'x'", "DELETE FROM claims_claimnote"):
        with pytest.raises(DatabaseError, match="never edited or deleted"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert ClaimNote.objects.get(pk=note.pk).text == "Claim opened"


def test_status_changes_are_logged_and_closing_sets_the_close_date(csr, membership):
    claim = open_stay_claim(membership, csr)
    claim = services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.WAIT_CALLER)
    assert claim.status == ClaimStatus.WAIT_CALLER and claim.closed_on is None
    claim = services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.CLOSED, note="Credited.")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLOSED and claim.closed_on == timezone.localdate()
    log = list(StateLog.objects.for_(claim).order_by("id").values_list("source_state", "state", "by"))
    assert log == [("open", "wait_caller", csr.pk), ("wait_caller", "closed", csr.pk)]
    assert claim.notes.order_by("-sequence").first().text == "Credited."


def test_a_closed_claim_is_reopened_only_with_a_note(csr, membership):
    claim = open_stay_claim(membership, csr)
    services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.CLOSED)
    with pytest.raises(ValidationError) as error:
        services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.OPEN)
    assert "reopened" in error.value.message_dict["note"][0]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.CLOSED
    claim = services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.REVIEW, note="Member sent proof.")
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REVIEW and claim.closed_on is None
    last = claim.notes.order_by("-sequence").first()
    assert (last.event, last.text) == (ClaimNote.Event.REOPENED, "Member sent proof.")


def test_fields_are_edited_and_a_property_must_be_the_programs(csr, membership, program):
    claim = open_stay_claim(membership, csr)
    values = {"comments": "Checked the folio", "reply_by": dt.date(2030, 1, 2)}
    claim = services.update_claim(claim=claim, by=csr, values=values)
    claim.refresh_from_db()
    assert (claim.comments, claim.reply_by) == ("Checked the folio", dt.date(2030, 1, 2))
    elsewhere = LocationFactory(program=ProgramFactory(code="other"), code="NYC", kind=Location.Kind.HOTEL)
    with pytest.raises(ValidationError) as error:
        services.update_claim(claim=claim, by=csr, values={"hotel": elsewhere})
    assert error.value.message_dict == {"hotel": ["This property is not in the membership's program."]}


def test_a_property_system_user_enters_open_claims_and_cannot_change_status_or_decision(membership, roles):
    from django.contrib.auth.models import Permission

    property_user = UserFactory(username="opera", role="CSR")
    property_user.user_permissions.add(Permission.objects.get(codename="enter_as_property"))
    property_user = type(property_user).objects.get(pk=property_user.pk)  # fresh permission cache
    claim = open_stay_claim(membership, property_user)
    assert (claim.source, claim.status, claim.decision, claim.owner) == (ClaimSource.PROPERTY, "open", "none", None)
    for change in ({"status": ClaimStatus.PENDING}, {"decision": "approved"}):
        with pytest.raises(ValidationError, match="property system"):
            services.update_claim(claim=claim, by=property_user, values={}, **change)
    claim.refresh_from_db()
    assert (claim.status, claim.decision) == ("open", "none")


def test_the_claims_lamp_lights_while_a_claim_is_not_closed(csr, membership):
    member = membership.member
    assert claims_lamp(csr, member, membership)["lit"] is False
    claim = open_stay_claim(membership, csr)
    state = claims_lamp(csr, member, membership)
    assert state["lit"] is True and state["count"] == 1 and member.member_number in state["url"]
    services.update_claim(claim=claim, by=csr, values={}, status=ClaimStatus.CLOSED)
    assert claims_lamp(csr, member, membership)["lit"] is False


@pytest.mark.parametrize(
    ("days_ago", "message"),
    [(3, "can be claimed from"), (6, "can be claimed from"), (400, "could be claimed until")],
)
def test_a_stay_claim_outside_the_claim_window_says_from_or_until_when(csr, membership, days_ago, message):
    with pytest.raises(ValidationError) as error:
        open_stay_claim(membership, csr, days_ago=days_ago)
    assert message in error.value.message_dict["departure_date"][0]
    assert not MembershipClaim.objects.exists()


def test_a_stay_claim_on_the_first_and_last_day_of_its_window_is_accepted(csr, membership, program):
    open_stay_claim(membership, csr, days_ago=7)  # the program waits 7 days after departure
    last = timezone.localdate() - dt.timedelta(days=365)
    values = stay_values(program, departure_date=last, arrival_date=last - dt.timedelta(days=1))
    services.open_claim(membership=membership, by=csr, values=values)
    assert MembershipClaim.objects.count() == 2


def test_a_stay_claim_needs_its_dates_but_another_record_type_does_not(csr, membership, program):
    with pytest.raises(ValidationError) as error:
        services.open_claim(membership=membership, by=csr, values=stay_values(program, departure_date=None))
    assert "departure date" in error.value.message_dict["departure_date"][0]
    values = stay_values(program, departure_date=None, arrival_date=None, record_type=RecordType.OTHER)
    assert services.open_claim(membership=membership, by=csr, values=values).record_type == RecordType.OTHER
