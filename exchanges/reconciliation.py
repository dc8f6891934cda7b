"""The exchanges' invariants for the daily reconciliation: no refund beyond its capture, a booking's refunded
points equal its operations, and every operation's points are on the ledger."""

from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from exchanges.models import PointsOperation, Redemption
from loyalty.models import Metric
from loyalty.plugins import ReconciliationCheck

Kind = PointsOperation.Kind


def _refunds_within_captures():
    zero = Value(0, output_field=IntegerField())
    tallied = Redemption.objects.annotate(
        refunds=Coalesce(Sum("operations__points", filter=Q(operations__kind=Kind.REFUND)), zero),
        reversals=Coalesce(Sum("operations__points", filter=Q(operations__kind=Kind.REVERSAL)), zero),
    )
    wrong = tallied.filter(
        Q(points_refunded__gt=F("points_captured")) | ~Q(points_refunded=F("refunds") - F("reversals"))
    ).order_by("pk")
    for redemption in wrong.iterator():
        yield f"Redemption {redemption.pk} ({redemption.pnr})", (
            f"{redemption.points_refunded} points refunded of {redemption.points_captured} captured; its operations "
            f"refunded {redemption.refunds} and reversed {redemption.reversals}"
        )


def _operations_on_the_ledger():
    award = Q(activity__entries__metric__in=Metric.award())
    expected = Case(When(kind=Kind.REFUND, then=F("points") - F("points_forfeited")), default=-F("points"))
    wrong = (
        PointsOperation.objects.filter(kind__in=[Kind.CAPTURE, Kind.REFUND, Kind.REVERSAL])
        .annotate(
            ledger=Coalesce(Sum("activity__entries__quantity", filter=award), Value(0), output_field=IntegerField()),
            expected=expected,
        )
        .filter(~Q(ledger=F("expected")))
        .order_by("pk")
    )
    for operation in wrong.iterator():
        yield f"{operation.get_kind_display()} {operation.pk} of redemption {operation.redemption_id}", (
            f"{operation.ledger} points on the ledger, {operation.expected} expected"
        )


CHECKS = [
    ReconciliationCheck("Refunds within captures",
                        "No booking is refunded beyond what was captured; its refunded points equal its refunds "
                        "less its reversals.", _refunds_within_captures),
    ReconciliationCheck("Points operations on the ledger",
                        "Each capture, refund and reversal moved exactly its points on the member's ledger.",
                        _operations_on_the_ledger),
]  # fmt: skip
