"""What the exchanges API takes and answers: requests validated field by field, redemptions with what remains
refundable."""

from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from exchanges.eligibility import REASONS
from exchanges.models import FailedStep, Redemption

POINTS = {"min_value": 1, "max_value": 100_000_000}
MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal(0)}


class QuoteRequestSerializer(serializers.Serializer):
    program = serializers.CharField(max_length=20, help_text="The program's code.")
    market = serializers.CharField(max_length=10, help_text="Point of sale, as in the conversion ratios.")
    cash_fare = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    tickets = serializers.IntegerField(min_value=1, max_value=9, default=1)


class FareOptionSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    cash = serializers.DecimalField(max_digits=12, decimal_places=2)
    redemption_only = serializers.BooleanField(help_text="The whole fare in points, at the redemption-only ratio.")


class QuoteSerializer(serializers.Serializer):
    program = serializers.CharField()
    market = serializers.CharField()
    currency = serializers.CharField()
    cash_fare = serializers.DecimalField(max_digits=12, decimal_places=2)
    minimum_points = serializers.IntegerField(help_text="Minimum points per ticket times the tickets.")
    options = FareOptionSerializer(many=True)


class TicketRequestSerializer(serializers.Serializer):
    ticket_number = serializers.RegexField(r"^\d{13}$", help_text="13 digits.")
    points = serializers.IntegerField(**POINTS)


class AuthorizeRequestSerializer(serializers.Serializer):
    program = serializers.CharField(max_length=20)
    membership_number = serializers.CharField(max_length=30, help_text="The paying member (the booker).")
    pnr = serializers.RegexField(r"^[A-Z0-9]{5,13}$", help_text="The booking's record locator.")
    currency = serializers.RegexField(r"^[A-Z]{3}$")
    cash_amount = serializers.DecimalField(**MONEY, default=0, help_text="Paid with another form of payment.")
    tickets = TicketRequestSerializer(many=True, allow_empty=False, max_length=9)


MEMBERSHIP_NUMBER_LENGTH = 30


class RefundRequestSerializer(serializers.Serializer):
    membership_number = serializers.CharField(
        max_length=MEMBERSHIP_NUMBER_LENGTH,
        help_text="The member the booking engine acts for: must be the original payer.",
    )
    ticket_numbers = serializers.ListField(
        child=serializers.RegexField(r"^\d{13}$"), required=False, allow_empty=False, max_length=9,
        help_text="Refund these tickets' remaining points.",
    )  # fmt: skip
    points = serializers.IntegerField(**POINTS, required=False, help_text="Refund this many points.")

    def validate(self, data):
        if "ticket_numbers" in data and "points" in data:
            raise serializers.ValidationError("Give ticket_numbers or points, not both (neither: a full refund).")
        return data


class EligibilityRequestSerializer(serializers.Serializer):
    all_coupons_unflown = serializers.BooleanField(default=True)
    round_trip_to_one_way = serializers.BooleanField(default=False)
    upgraded_segment = serializers.BooleanField(default=False)
    involuntary = serializers.BooleanField(default=False)
    unconfirmed_schedule_change = serializers.BooleanField(default=False)
    passengers_in_pnr = serializers.IntegerField(min_value=1, max_value=99, default=1)
    passengers_exchanging = serializers.IntegerField(min_value=1, max_value=99, default=1)
    revalidation_only = serializers.BooleanField(default=False)
    ancillaries_paid_in_points = serializers.BooleanField(default=False)
    ticket_value_zero = serializers.BooleanField(default=False)

    def validate(self, data):
        if data["passengers_exchanging"] > data["passengers_in_pnr"]:
            raise serializers.ValidationError({"passengers_exchanging": "More than the passengers in the PNR."})
        return data


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=list(REASONS))
    message = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    action = serializers.ChoiceField(choices=["proceed", "contact_call_centre"])
    reasons = ReasonSerializer(many=True)


class FailureRequestSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=FailedStep.choices, help_text="The soft failure's step (seed 004).")
    detail = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    redemption = serializers.IntegerField(source="redemption_id")
    failed_step = serializers.CharField()
    status = serializers.CharField()
    opened_at = serializers.DateTimeField()


# Answers about redemptions are plain serializers with the models' field types spelled out: a
# ModelSerializer builds its fields from the model on every answer, a cost each refund would pay.
COLUMN_POINTS = {"min_value": 0, "max_value": 2147483647}  # a PositiveIntegerField's range


class TicketSerializer(serializers.Serializer):
    ticket_number = serializers.CharField(max_length=13)
    points = serializers.IntegerField(**COLUMN_POINTS)
    points_refunded = serializers.IntegerField(**COLUMN_POINTS, required=False)
    points_refundable = serializers.IntegerField()


class RedemptionSerializer(serializers.Serializer):
    """A redemption whose `ticket_list` (its tickets in number order) was set by whoever read it
    (api.redemption_of, or services.refund, which holds them locked and updated)."""

    id = serializers.IntegerField(read_only=True)
    program = serializers.CharField(source="program.code")
    pnr = serializers.CharField(label="PNR", max_length=13)
    membership_number = serializers.CharField(source="membership.membership_number")
    currency = serializers.CharField(max_length=3)
    cash_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False,
        help_text=Redemption._meta.get_field("cash_amount").help_text,
    )  # fmt: skip
    status = serializers.CharField()
    points_held = serializers.IntegerField(**COLUMN_POINTS)
    points_captured = serializers.IntegerField(**COLUMN_POINTS, required=False)
    points_refunded = serializers.IntegerField(**COLUMN_POINTS, required=False)
    points_refundable = serializers.IntegerField(help_text="Captured minus refunded.")
    tickets = TicketSerializer(many=True, source="ticket_list")
    created_at = serializers.DateTimeField()
    hold_expires_at = serializers.DateTimeField(help_text=Redemption._meta.get_field("hold_expires_at").help_text)
    captured_at = serializers.DateTimeField(allow_null=True, required=False)


class RefundSerializer(serializers.Serializer):
    points_refunded = serializers.IntegerField(help_text="Points returned from the booking (no longer refundable).")
    points_credited = serializers.IntegerField(help_text="Of those, the points credited to the member's balance.")
    points_expired = serializers.IntegerField(
        help_text="Of those, the points past their validity since the redemption (the program's refund policy)."
    )
    points_forfeited = serializers.IntegerField(
        help_text="Expired points not credited, when the program does not re-credit expired points."
    )
    tickets = serializers.DictField(child=serializers.IntegerField(), help_text="Points refunded per ticket.")
    cash_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The cash part of the booking: the caller refunds it, not us."
    )
    currency = serializers.CharField()
    redemption = RedemptionSerializer()


# Every answer with a redemption, a refund's above all, is built by these two functions: a serializer instance
# deep-copies its declared fields first, which cost a refund more than its row lock. The serializers above
# stay what the schema documents; a test holds each function's output equal to its serializer's.
_MONEY = serializers.DecimalField(max_digits=12, decimal_places=2)


def _when(value, zone):
    """DateTimeField's ISO 8601 in the current time zone (`zone`, looked up once per answer: REST framework's
    field looks it up for each value, the dearer part of a refund's answer)."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def redemption_answer(redemption, cash_amount=None):
    """RedemptionSerializer(redemption).data: `ticket_list` set by whoever read the redemption. `cash_amount`:
    the booking's cash part as the caller already wrote it."""
    zone = timezone.get_current_timezone()
    return {
        "id": redemption.pk,
        "program": redemption.program.code,
        "pnr": redemption.pnr,
        "membership_number": redemption.membership.membership_number,
        "currency": redemption.currency,
        "cash_amount": cash_amount or _MONEY.to_representation(redemption.cash_amount),
        "status": str(redemption.status),
        "points_held": redemption.points_held,
        "points_captured": redemption.points_captured,
        "points_refunded": redemption.points_refunded,
        "points_refundable": redemption.points_refundable,
        "tickets": [
            {
                "ticket_number": ticket.ticket_number,
                "points": ticket.points,
                "points_refunded": ticket.points_refunded,
                "points_refundable": ticket.points_refundable,
            }
            for ticket in redemption.ticket_list
        ],
        "created_at": _when(redemption.created_at, zone),
        "hold_expires_at": _when(redemption.hold_expires_at, zone),
        "captured_at": _when(redemption.captured_at, zone),
    }


def full_refund_request(data):
    """RefundRequestSerializer's validated data for the usual body, a full refund ({"membership_number": …} and
    nothing else, already clean); None for any other body, which the serializer then validates. A serializer
    instance deep-copies its fields first: on every refund, that cost more than the checks themselves."""
    if type(data) is not dict or len(data) != 1:
        return None
    number = data.get("membership_number")
    if type(number) is not str or not 0 < len(number) <= MEMBERSHIP_NUMBER_LENGTH:
        return None
    if not number.isprintable() or number != number.strip():
        return None  # the serializer trims, or refuses a NUL or a surrogate
    return {"membership_number": number}


def refund_answer(result):
    """RefundSerializer's answer for a services.RefundResult."""
    cash_amount = _MONEY.to_representation(result.cash_amount)  # the booking's: the redemption shows it too
    return {
        "points_refunded": result.points_refunded,
        "points_credited": result.points_credited,
        "points_expired": result.points_expired,
        "points_forfeited": result.points_forfeited,
        "tickets": {number: int(points) for number, points in result.operation.tickets.items()},
        "cash_amount": cash_amount,
        "currency": result.redemption.currency,
        "redemption": redemption_answer(result.redemption, cash_amount),
    }
