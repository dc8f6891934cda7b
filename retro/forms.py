"""Retro claim forms: a submit form built from the program's key definition, supervisor decisions."""

from django import forms

from loyalty.idempotency import new_form_token
from loyalty.text import refuse_unreadable_text

DATE_FIELDS = {"transaction_date"}
AMOUNT_FIELDS = {"amount"}


def _label(key_field):
    if key_field.field == "attribute":
        return key_field.attribute_name.replace("_", " ").replace("-", " ").capitalize()
    return key_field.get_field_display()


class RetroClaimSubmitForm(forms.Form):
    """One input per part of the retro claim key, in the key's order.

    The transaction date is always asked for (the claim needs it for the
    settings checks) even when the key itself does not include it.
    """

    def __init__(self, *args, key_fields, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.key_fields = list(key_fields)
        # (code, label) of the program's locations: the location is chosen, not typed (no typo to match).
        self.locations = list(locations)
        for key_field in self.key_fields:
            self.fields[key_field.form_name] = self._field_for(key_field, self.locations)
        self._offer_prefilled_location()
        if "transaction_date" not in self.fields:
            self.fields["transaction_date"] = forms.DateField(
                label="Transaction date", widget=forms.DateInput(attrs={"type": "date"})
            )
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        # Rendered with the form: the same form posted twice (a double click, a re-sent page) submits once.
        self.fields["form_token"] = forms.CharField(
            widget=forms.HiddenInput, required=False, max_length=64, initial=new_form_token
        )
        refuse_unreadable_text(self)

    @staticmethod
    def label_for(key_field):
        return _label(key_field)

    @staticmethod
    def _field_for(key_field, locations=()):
        name = key_field.form_name
        label = _label(key_field)
        if name == "location_code" and locations:
            return forms.ChoiceField(
                label=label,
                choices=[("", "Choose a location…"), *locations],
                widget=forms.Select(attrs={"class": "form-select"}),
            )
        if name in DATE_FIELDS:
            return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))
        if name in AMOUNT_FIELDS:
            return forms.DecimalField(label=label, max_digits=14, decimal_places=2)
        if name == "card_last_four":
            return forms.RegexField(
                label=label, regex=r"^\d{4}$", max_length=4, error_messages={"invalid": "Enter exactly four digits."}
            )
        if name == "currency":
            return forms.CharField(label=label, max_length=3, min_length=3)
        return forms.CharField(label=label, max_length=64)

    def _offer_prefilled_location(self):
        """A pre-filled location code the program does not list (an old feed's code) stays selectable."""
        field = self.fields.get("location_code")
        code = self.initial.get("location_code")
        if isinstance(field, forms.ChoiceField) and code and code not in dict(field.choices):
            field.choices = [*field.choices, (code, f"{code} (not in the program's locations)")]

    @property
    def key_names(self):
        return [key_field.form_name for key_field in self.key_fields]

    def key_values(self):
        """The cleaned key values as JSON-friendly text, keyed by form name."""
        values = {}
        for name in self.key_names:
            value = self.cleaned_data.get(name)
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            values[name] = "" if value is None else str(value).strip()
        return values

    def transaction_date(self):
        return self.cleaned_data.get("transaction_date")

    def add_service_error(self, error):
        """Show a service's ValidationError on the fields it names, the rest above the form."""
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class RetroClaimDecisionForm(forms.Form):
    """A decision's internal reason (approve, reject, reverse, withdraw) and what the member is told."""

    reason = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        error_messages={"required": "Give a reason: it is kept in the claim's history."},
    )
    # Rejections and reversals only: the reason stays internal, this goes to the member (e-mail, portal).
    member_message = forms.CharField(
        label="Message to the member (optional)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text="Sent in the e-mail and shown in the member portal. The reason is never shown to the member.",
    )

    def __init__(self, *args, reason_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required
