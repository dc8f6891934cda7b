"""Writing membership claims: open, edit, close and reopen, notes. Every change of state goes through the kit.

Views, the API and the demo call these; each is one transaction, and a refusal is a ValidationError
whose messages a CSR can read (field errors where a field is to blame).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from claims import rules
from claims.decisions import MEMBERSHIP_CLAIM_APPROVALS
from claims.models import ClaimDecision, ClaimNote, ClaimSource, ClaimStatus, MembershipClaim, RecordType
from claims.models.claims import ADJUSTMENT_FIELDS, STATUS_TRANSITIONS
from claims.selectors import may_submit_for
from loyalty.lifecycle import transition
from loyalty.lifecycle.decisions import decide
from loyalty.valuation import tier_on

# What a CSR types on the claim screen; the rest is set by the system or by the lifecycle.
EDITABLE_FIELDS = (
    "caller_name", "origin", "owner", "claim_type", "record_type", "hotel", "property_reservation_number",
    "central_reservation_number", "arrival_date", "departure_date", "caller_information", "reply_by", "comments",
    "adjustment_code", *ADJUSTMENT_FIELDS,
)  # fmt: skip
OPENED_TEXT = "Claim opened"
EDIT_PERMISSION = "claims.change_membershipclaim"
PROPERTY_PERMISSION = "claims.enter_as_property"


def is_property_user(user):
    """Seed 002's OPMS user: their claims come from the property system, OPEN with no decision, unchangeable."""
    return user.has_perm(PROPERTY_PERMISSION) and not user.is_superuser


def _checked_values(*, program, values, claim=None, today):
    """The values to store, with a limited adjustment completed; raises field errors."""
    values = {name: values.get(name, getattr(claim, name, None) if claim else None) for name in EDITABLE_FIELDS}
    for text in ("caller_name", "property_reservation_number", "central_reservation_number", "caller_information",
                 "comments"):  # fmt: skip
        values[text] = (values[text] or "").strip()
    if values["record_type"] is None:
        values["record_type"] = RecordType.STAY
    errors = {}
    arrival, departure = values["arrival_date"], values["departure_date"]
    if arrival and departure and departure < arrival:
        errors["departure_date"] = "The departure date cannot be before the arrival date."
    if values["hotel"] is not None and values["hotel"].program_id != program.pk:
        errors["hotel"] = "This property is not in the membership's program."
    dates_changed = claim is None or (claim.departure_date, claim.record_type) != (departure, values["record_type"])
    if values["record_type"] == RecordType.STAY and dates_changed and "departure_date" not in errors:
        errors.update(rules.check_stay_claim(rules.claim_settings(program), arrival=arrival, departure=departure,
                                             today=today))  # fmt: skip
    if values["record_type"] == RecordType.LIMITED_ADJUSTMENT:
        code = values["adjustment_code"]
        if code is not None and code.program_id != program.pk:
            errors["adjustment_code"] = "This adjustment code belongs to another program."
        else:
            try:
                values.update(rules.check_adjustment(code, {n: values[n] for n in ADJUSTMENT_FIELDS}))
            except ValidationError as error:
                errors.update(error.message_dict)
    else:
        values["adjustment_code"] = None
        values.update(dict.fromkeys(ADJUSTMENT_FIELDS))
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def open_claim(*, membership, by, values, stay=None) -> MembershipClaim:
    """Enter a new claim for a membership; its number is given on save and its first note says it was opened."""
    if not may_submit_for(by, membership):
        raise PermissionDenied("Your account may not submit claims for this membership.")
    program = membership.program
    now = timezone.now()
    today = program.local_date(now)
    values = _checked_values(program=program, values=values, today=today)
    property_user = is_property_user(by)
    tier = tier_on(membership, today)
    claim = MembershipClaim(
        program=program,
        membership=membership,
        claim_date=today,
        created_at=now,
        source=ClaimSource.PROPERTY if property_user else ClaimSource.BACK_OFFICE,
        submitted_by=by,
        card_level=tier.name if tier else membership.card_level,
        joined_on=membership.joined_on,
        expires_on=membership.expires_on,
        stay=stay,
        **values,
    )
    if claim.owner is None and not property_user:
        claim.owner = by if by.has_perm(EDIT_PERMISSION) else None
    claim.save(force_insert=True)
    _write_note(claim, by=by, text=OPENED_TEXT, event=ClaimNote.Event.OPENED, now=now)
    return claim


def update_claim(*, claim, by, values, status=None, decision=None, note="") -> MembershipClaim:
    """Save an editor's changes: fields, then the status (closing dates it; reopening needs `note`), then
    approve or reject through the decision service (maker/checker and approval limits; a limited
    adjustment posts its points then, once). One transaction: a refused decision saves nothing.
    """
    if not by.has_perm(EDIT_PERMISSION):
        raise PermissionDenied("Your account may not edit claims.")
    with transaction.atomic():
        claim = MembershipClaim.objects.select_for_update(of=("self",)).select_related("program").get(pk=claim.pk)
        program = claim.program
        now = timezone.now()
        values = _checked_values(program=program, values=values, claim=claim, today=program.local_date(now))
        if claim.decision != ClaimDecision.NONE:
            changed = [n for n in ("record_type", "adjustment_code", *ADJUSTMENT_FIELDS)
                       if values[n] != getattr(claim, n)]  # fmt: skip
            if changed:
                raise ValidationError(
                    {changed[0]: f"The claim is {claim.get_decision_display().lower()}d: its adjustment can no "
                     "longer change. Open a new claim to adjust again."}
                )  # fmt: skip
        property_user = is_property_user(by)
        if property_user and (status not in (None, claim.status) or decision not in (None, claim.decision)):
            raise ValidationError("Claims entered from a property system stay OPEN with no decision: "
                                  "a back-office editor changes them.")  # fmt: skip
        changed_fields = [name for name, value in values.items() if getattr(claim, name) != value]
        for name in changed_fields:
            setattr(claim, name, values[name])
        if changed_fields:
            claim.save(update_fields=changed_fields)
        if status is not None and status != claim.status:
            _change_status(claim, status, by=by, note=note, now=now)
        if decision is not None and decision != claim.decision:
            name = {ClaimDecision.APPROVED: "approve", ClaimDecision.REJECTED: "reject"}.get(decision)
            if name is None:
                raise ValidationError({"decision": "An approved or rejected claim stays so: its decision is final."})
            claim = decide(MEMBERSHIP_CLAIM_APPROVALS, claim, name, by=by, reason=(note or "").strip())
            event = ClaimNote.Event.APPROVED if name == "approve" else ClaimNote.Event.REJECTED
            text = event.label
            if claim.activity_id:
                text += f": {claim.total_points:,} points posted"
            _write_note(claim, by=by, text=text, event=event, now=now)
    return claim


def _change_status(claim, status, *, by, note, now):
    note = (note or "").strip()
    if claim.status == ClaimStatus.CLOSED:
        if not note:
            raise ValidationError({"note": "Say why the claim is reopened: the note goes in its chronology."})
        name, event = "reopen", ClaimNote.Event.REOPENED
        claim.closed_on = None
    else:
        name = STATUS_TRANSITIONS[status]
        event = ClaimNote.Event.CLOSED if status == ClaimStatus.CLOSED else None
        if status == ClaimStatus.CLOSED:
            claim.closed_on = claim.program.local_date(now)
    transition(claim, name, by=by, reason=note, fields=("closed_on",))
    if claim.status != status:
        # Reopened claims come back OPEN; an editor asking for another open status gets it next.
        transition(claim, STATUS_TRANSITIONS[status], by=by, reason=note)
    if event or note:
        _write_note(claim, by=by, text=note or event.label, event=event or ClaimNote.Event.NOTE, now=now)


@transaction.atomic
def add_note(*, claim, by, activity_type, text) -> ClaimNote:
    """Add a note to a claim's chronology with the next sequence number (the claim is locked meanwhile)."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the note."})
    if activity_type is not None and not activity_type.active:
        raise ValidationError({"activity_type": f"“{activity_type}” is no longer in use."})
    claim = MembershipClaim.objects.select_for_update(of=("self",)).get(pk=claim.pk)
    return _write_note(claim, by=by, text=text, activity_type=activity_type, now=timezone.now())


def _write_note(claim, *, by, text, now, event=ClaimNote.Event.NOTE, activity_type=None):
    # The claim row is locked (or new) in this transaction: the next number cannot be taken twice.
    last = claim.notes.aggregate(last=Max("sequence"))["last"] or 0
    note = ClaimNote(
        claim=claim, sequence=last + 1, event=event, activity_type=activity_type, author=by, created_at=now,
        text=text[:10_000],
    )  # fmt: skip
    note.save(force_insert=True)
    return note
