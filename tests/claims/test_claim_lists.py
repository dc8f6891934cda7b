"""The claim screen's lists (origin, claim type, property, adjustment code, activity types) are read by statements
prepared once per process: each claim still sees the active choices and the one it already holds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.forms import ClaimForm, NoteForm
from claims.models import ClaimOrigin, MembershipClaim, NoteActivityType
from claims.selectors import claim_chronology, claim_notes
from claims.services import add_note
from loyalty.models import Program
from tests.claims.factories import adjustment_values, claim_type, code, hotel, membership_in, open_stay_claim
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def _options(form, name):
    return [label for value, label in form.fields[name].widget.choices if value != ""]


def _form(claim, user):
    return ClaimForm(instance=claim, program=claim.program, user=user, editing=True, property_user=False)


def test_a_retired_choice_stays_on_the_claim_that_holds_it_and_on_no_other(membership, csr, program):
    goodwill, retired_code = code(program), code(program, name="OLDCODE")
    fax = ClaimOrigin.objects.create(code="FAX-OLD", label="Fax (old)")
    holder = open_stay_claim(membership, csr, origin=fax, **adjustment_values(retired_code, bonus_points=100))
    other = open_stay_claim(membership, csr)
    ClaimOrigin.objects.filter(pk=fax.pk).update(active=False)
    type(retired_code).objects.filter(pk=retired_code.pk).update(active=False)
    stay_type = claim_type("STAY")
    type(stay_type).objects.filter(pk=stay_type.pk).update(active=False)

    held, not_held = _form(holder, csr), _form(other, csr)
    assert "Fax (old)" in _options(held, "origin") and "Fax (old)" not in _options(not_held, "origin")
    assert retired_code.code in " ".join(_options(held, "adjustment_code"))
    assert retired_code.code not in " ".join(_options(not_held, "adjustment_code"))
    assert goodwill.code in " ".join(_options(not_held, "adjustment_code"))
    # The stay claim holds the retired STAY type and still lists it; the adjustment claim (GOODWILL) does not.
    assert stay_type.label in _options(not_held, "claim_type") and stay_type.label not in _options(held, "claim_type")


def test_the_properties_listed_are_the_claims_programs_only(membership, csr, program):
    ours = hotel(program)
    elsewhere = ProgramFactory(code="villa", name="Villa Rewards", kind=Program.Kind.HOTEL)
    theirs = hotel(elsewhere, code="LON-SAVOY")
    claim_here = open_stay_claim(membership, csr)
    claim_there = MembershipClaim(membership=membership_in(elsewhere), program=elsewhere)
    assert _options(_form(claim_here, csr), "hotel") == [str(ours)]
    assert _options(_form(claim_there, csr), "hotel") == [str(theirs)]


def test_the_lists_are_read_without_compiling_a_queryset_each_time(membership, csr):
    claim = open_stay_claim(membership, csr)
    str(_form(claim, csr)["origin"])  # the first read prepares the statements
    with CaptureQueriesContext(connection) as queries:
        form, notes = _form(claim, csr), NoteForm()
        for name in ("origin", "claim_type", "hotel", "adjustment_code"):
            str(form[name])
        str(notes["activity_type"])
    assert len(queries) == 5


def test_the_chronology_reads_each_note_with_its_activity_and_author(membership, csr, supervisor):
    claim = open_stay_claim(membership, csr)
    call = NoteActivityType.objects.get(code="CALL-PROPERTY")
    add_note(claim=claim, by=supervisor, activity_type=call, text="Called the front office.")
    add_note(claim=claim, by=csr, activity_type=None, text="Folio received.")
    with CaptureQueriesContext(connection) as queries:
        read = [(n.sequence, n.activity_label, n.author and n.author.username, n.text) for n in claim_chronology(claim)]
    assert len(queries) == 1
    assert read == [(n.sequence, n.activity_label, n.author and n.author.username, n.text) for n in claim_notes(claim)]
    assert read[1:] == [(2, "Call Property for Verification", "supervisor", "Called the front office."),
                        (3, "Note", "csr", "Folio received.")]  # fmt: skip
