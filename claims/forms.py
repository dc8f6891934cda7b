"""The claim screen's forms: the claim (seed 002's fields), a note, a card for a stay."""

import functools

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from claims.models import (
    AdjustmentCode,
    ClaimDecision,
    ClaimOrigin,
    ClaimStatus,
    ClaimType,
    MembershipClaim,
    NoteActivityType,
)
from claims.models.claims import ADJUSTMENT_FIELDS
from claims.selectors import claim_owners
from loyalty import sql
from loyalty.models import Location
from loyalty.text import refuse_unreadable_text
from loyalty.widgets import speed_up

DATE = {"type": "date"}
FIELDS = [
    "caller_name", "origin", "owner", "claim_type", "record_type", "hotel", "property_reservation_number",
    "central_reservation_number", "arrival_date", "departure_date", "caller_information", "reply_by", "comments",
    "adjustment_code", *ADJUSTMENT_FIELDS,
]  # fmt: skip


def _style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        elif isinstance(widget, forms.Textarea):
            widget.attrs.setdefault("class", "form-control form-control-sm")
            widget.attrs.setdefault("rows", 2)
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
    speed_up(form)


def _choices(field, key, make_queryset, *values):
    field.queryset = make_queryset(*values)
    field.read_options = functools.partial(sql.instances_for, key, make_queryset, *values)


# A claim's lists: the active choices, and the one the claim already holds even when retired since.
def _origins(held):
    return ClaimOrigin.objects.filter(active=True) | ClaimOrigin.objects.filter(pk=held)


def _claim_types(held):
    return ClaimType.objects.filter(active=True) | ClaimType.objects.filter(pk=held)


def _hotels(program):
    return Location.objects.filter(program=program, kind=Location.Kind.HOTEL)


def _adjustment_codes(program, held):
    codes = AdjustmentCode.objects.filter(program=program)
    return codes.filter(active=True) | codes.filter(pk=held)


class ClaimForm(forms.ModelForm):
    """What a CSR enters; the status and the decision are the editor's, and go through the lifecycle."""

    status = forms.ChoiceField(choices=ClaimStatus.choices, label="Claim status", required=False)
    decision = forms.ChoiceField(choices=ClaimDecision.choices, label="Approve/Reject", required=False)
    note = forms.CharField(
        label="Note for this change", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Goes in the chronology; required to reopen a closed claim.",
    )  # fmt: skip

    class Meta:
        model = MembershipClaim
        fields = FIELDS
        widgets = {
            "arrival_date": forms.DateInput(attrs=DATE),
            "departure_date": forms.DateInput(attrs=DATE),
            "reply_by": forms.DateInput(attrs=DATE),
            "caller_information": forms.Textarea(attrs={"rows": 2}),
            "comments": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, program, user, editing, property_user, **kwargs):
        super().__init__(*args, **kwargs)
        claim = self.instance
        # Each list by a prepared statement (loyalty.sql): compiling five querysets cost more than reading them.
        # The querysets themselves still validate what is posted.
        _choices(self.fields["origin"], "claims.claim.origin", _origins, claim.origin_id or 0)
        _choices(self.fields["claim_type"], "claims.claim.claim_type", _claim_types, claim.claim_type_id or 0)
        self.fields["owner"].queryset = claim_owners().order_by("username")
        self.fields["owner"].read_options = functools.partial(
            sql.instances_of, "claims.claim.owner", self.fields["owner"].queryset
        )
        self.fields["owner"].label_from_instance = lambda user: user.get_full_name() or user.username
        _choices(self.fields["hotel"], "claims.claim.hotel", _hotels, program.pk)
        _choices(
            self.fields["adjustment_code"], "claims.claim.adjustment_code", _adjustment_codes, program.pk,
            claim.adjustment_code_id or 0,
        )  # fmt: skip
        # Choosing a code shows its thresholds beside it.
        self.fields["adjustment_code"].widget.attrs.update(
            {"hx-get": reverse("adjustment-code-thresholds"), "hx-trigger": "change", "hx-target": "#thresholds",
             "hx-swap": "innerHTML"}
        )  # fmt: skip
        self.fields["record_type"].widget.attrs["data-record-type"] = "1"
        for name in ADJUSTMENT_FIELDS:
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "class": "form-control form-control-sm"})
        if claim.pk is None and editing and not property_user:
            self.fields["owner"].initial = user.pk  # seed 002: the submitter, unless someone else handles it
        self.fields["status"].initial = claim.status
        self.fields["decision"].initial = claim.decision
        # Seed 002: an OPMS (property-system) user's claim is OPEN with no decision, and they cannot change either.
        if property_user or not editing:
            for name in ("status", "decision", "owner"):
                self.fields[name].disabled = True
        if claim.pk is None:
            self.fields["status"].disabled = True
            self.fields["decision"].disabled = True
        if claim.decision != ClaimDecision.NONE:
            self.fields["decision"].disabled = True
            for name in ("record_type", "adjustment_code", *ADJUSTMENT_FIELDS):
                self.fields[name].disabled = True
        refuse_unreadable_text(self)
        _style(self)

    def clean(self):
        # The service checks the claim window and the thresholds; the form only reads what was typed.
        return super().clean()

    def _post_clean(self):
        # The model is written by claims.services (which validates it against the program); skip ModelForm's.
        pass

    def values(self):
        return {name: self.cleaned_data.get(name) for name in FIELDS}

    def apply_errors(self, error: ValidationError):
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class NoteForm(forms.Form):
    activity_type = forms.ModelChoiceField(
        queryset=NoteActivityType.objects.filter(active=True), label="Activity", empty_label="(none)", required=False
    )
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000, label="Note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        activity_type = self.fields["activity_type"]
        activity_type.read_options = functools.partial(sql.instances_of, "claims.note.activity_type",
                                                       activity_type.queryset)  # fmt: skip
        refuse_unreadable_text(self)
        _style(self)


class AttachCardForm(forms.Form):
    membership_number = forms.CharField(max_length=30, label="Membership card number")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        refuse_unreadable_text(self)
        _style(self)
