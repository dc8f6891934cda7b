"""Admin for membership claims: the lists of values, adjustment codes, program settings; claims to look at."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from claims.models import (
    AdjustmentBatch,
    AdjustmentCode,
    ClaimNote,
    ClaimOrigin,
    ClaimSettings,
    ClaimType,
    MembershipClaim,
    NoteActivityType,
    Stay,
)
from retro.admin_base import ReadOnlyAdmin


@admin.register(ClaimType, ClaimOrigin, NoteActivityType)
class ListOfValuesAdmin(SimpleHistoryAdmin):
    list_display = ["code", "label", "active"]
    list_filter = ["active"]
    search_fields = ["code", "label"]

    def has_delete_permission(self, request, obj=None):
        return False  # claims keep their type and origin: retire a value with "active" instead


@admin.register(ClaimSettings)
class ClaimSettingsAdmin(SimpleHistoryAdmin):
    list_display = ["program", "stay_claim_after_days", "stay_claim_months", "calculation_delay_days",
                    "exceptions_enabled"]  # fmt: skip


@admin.register(AdjustmentCode)
class AdjustmentCodeAdmin(SimpleHistoryAdmin):
    list_display = ["code", "description", "program", "active", "points_range", "stays_range", "nights_range",
                    "revenue_range"]  # fmt: skip
    list_filter = ["program", "active"]
    search_fields = ["code", "description"]
    fieldsets = [
        (None, {"fields": ["program", "code", "description", "active"]}),
        ("Thresholds: each value of an adjustment must fall between these", {"fields": [
            ("lower_points", "upper_points"), ("lower_stays", "upper_stays"), ("lower_nights", "upper_nights"),
            ("lower_revenue", "upper_revenue")]}),
    ]  # fmt: skip

    def has_delete_permission(self, request, obj=None):
        return False

    def _range(self, code, kind):
        lower, upper = code.range_of(kind)
        return f"{lower:,} to {upper:,}"

    @admin.display(description="Points")
    def points_range(self, code):
        return self._range(code, "points")

    @admin.display(description="Stays")
    def stays_range(self, code):
        return self._range(code, "stays")

    @admin.display(description="Nights")
    def nights_range(self, code):
        return self._range(code, "nights")

    @admin.display(description="Revenue")
    def revenue_range(self, code):
        return self._range(code, "revenue")


@admin.register(MembershipClaim)
class MembershipClaimAdmin(ReadOnlyAdmin):
    list_display = ["id", "claim_date", "membership", "claim_type", "record_type", "status", "decision", "owner"]
    list_filter = ["status", "decision", "record_type", "source", "program"]
    list_select_related = ["membership", "membership__program", "claim_type", "owner"]
    search_fields = ["=id", "membership__membership_number", "caller_name"]
    show_full_result_count = False


@admin.register(ClaimNote)
class ClaimNoteAdmin(ReadOnlyAdmin):
    list_display = ["claim", "sequence", "event", "activity_type", "author", "created_at"]
    list_select_related = ["activity_type", "author"]
    search_fields = ["=claim__id"]
    show_full_result_count = False


@admin.register(Stay)
class StayAdmin(ReadOnlyAdmin):
    list_display = ["hotel", "property_reservation_number", "arrival_date", "departure_date", "status", "card_number",
                    "exception", "calculated_at"]  # fmt: skip
    list_filter = ["status", "exception", "program"]
    list_select_related = ["hotel"]
    search_fields = ["property_reservation_number", "central_reservation_number", "card_number"]
    show_full_result_count = False


@admin.register(AdjustmentBatch)
class AdjustmentBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "program", "submitted_by", "submitted_at", "status", "lines_count", "points_value"]
    list_filter = ["status", "program"]
