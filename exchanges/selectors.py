"""Reads the exchanges screens share: the manual-handling queue, a case with its notes, a member's redemptions,
the points operations."""

from django.db.models import Prefetch

from exchanges.models import CaseCorrection, CaseNote, CaseStatus, ManualHandlingCase, PointsOperation, Redemption

OPEN_STATES = [CaseStatus.OPEN, CaseStatus.IN_PROGRESS]
VIEW_CASES = "exchanges.view_manualhandlingcase"
HANDLE_CASES = "exchanges.handle_manualhandlingcase"


def open_cases():
    """Open and in-progress cases, oldest first (the partial index case_open_by_age)."""
    return (
        ManualHandlingCase.objects.filter(status__in=OPEN_STATES)
        .select_related("redemption__membership", "partner", "assigned_to")
        .order_by("opened_at", "id")
    )


def case_with_notes(pk):
    notes = CaseNote.objects.select_related("author").order_by("sequence")
    return (
        ManualHandlingCase.objects.select_related("redemption__membership", "partner", "assigned_to", "program")
        .prefetch_related(
            Prefetch("notes", queryset=notes),
            Prefetch("corrections", queryset=CaseCorrection.objects.select_related("proposed_by", "decided_by")),
        )
        .get(pk=pk)
    )


def member_redemptions(membership):
    """The membership's bookings paid with points, newest first, with their tickets and refunds."""
    return (
        Redemption.objects.filter(membership=membership)
        .select_related("partner")
        .prefetch_related("tickets")
        .order_by("-created_at", "-id")
    )


def points_operations():
    return PointsOperation.objects.select_related("redemption__membership", "partner", "created_by").order_by("-id")
