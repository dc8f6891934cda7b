"""Forms of the flight claim screens."""

import datetime as dt

from django import forms

from retro.flights import rules
from retro.models import Flight
from retro.models.flights import MAX_COUPONS


class ManualFlightForm(forms.Form):
    """A flight typed from the member's boarding pass or e-ticket (seed 000's Add Flight Activity)."""

    ticket_number = forms.CharField(max_length=20, help_text="13 digits: the 3-digit airline code and 10 more.")
    coupon_number = forms.IntegerField(min_value=1, max_value=MAX_COUPONS, initial=1)
    carrier = forms.RegexField(
        regex=r"^[A-Za-z0-9]{2,3}$",
        max_length=3,
        help_text="Operating carrier, e.g. SW.",
        error_messages={"invalid": "A carrier code has 2 or 3 letters or digits."},
    )
    flight_number = forms.RegexField(
        regex=r"^[0-9]{1,4}[A-Za-z]?$",
        max_length=5,
        error_messages={"invalid": "A flight number has 1 to 4 digits (and a letter)."},
    )
    flight_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    origin = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        help_text="IATA code, e.g. JFK.",
        error_messages={"invalid": "An airport code has 3 letters."},
    )
    destination = forms.RegexField(
        regex=r"^[A-Za-z]{3}$", max_length=3, error_messages={"invalid": "An airport code has 3 letters."}
    )
    cabin = forms.CharField(max_length=12, required=False)
    booking_class = forms.RegexField(
        regex=r"^[A-Za-z]$", max_length=1, required=False, error_messages={"invalid": "A booking class is one letter."}
    )
    distance = forms.IntegerField(min_value=1, max_value=12500, help_text="Miles.")
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=500,
                           help_text="Where the details come from: boarding pass, e-ticket receipt…")  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control form-control-sm")

    def clean_ticket_number(self):
        value = rules.clean_ticket_number(self.cleaned_data["ticket_number"])
        error = rules.ticket_number_error(value)
        if error:
            raise forms.ValidationError(error)
        return value

    def clean(self):
        data = super().clean()
        if data.get("origin") and data.get("origin", "").upper() == data.get("destination", "").upper():
            self.add_error("destination", "The destination is the origin: give the airport the flight landed at.")
        if data.get("flight_date") and data["flight_date"] > dt.date.today() + dt.timedelta(days=1):
            self.add_error("flight_date", "The flight date is in the future.")
        return data

    def coupon(self):
        """The typed flight as an unsaved Flight, which the claim copies."""
        d = self.cleaned_data
        return Flight(
            ticket_number=d["ticket_number"], coupon_number=d["coupon_number"], operating_carrier=d["carrier"].upper(),
            marketing_carrier=d["carrier"].upper(), flight_number=d["flight_number"].upper(),
            flight_date=d["flight_date"], origin=d["origin"].upper(), destination=d["destination"].upper(),
            cabin=d.get("cabin", ""), booking_class=(d.get("booking_class") or "").upper(), distance=d["distance"],
            passenger_name="", flown=True,
        )  # fmt: skip
