"""Django admin for airline flight claims: each program's settings; the feed and the claims to read."""

from django.contrib import admin
from django_fsm_log.admin import StateLogInline

from retro.models import Flight, FlightClaim, FlightSettings


class ReadOnly(admin.ModelAdmin):
    """Written by the import and the wizard only: admins read them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FlightSettings)
class FlightSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "program", "airline_code", "partner_codes", "wait_days", "claim_window_months", "enrolment_buffer_days",
        "service_level_days",
    ]  # fmt: skip
    list_select_related = ["program"]


@admin.register(Flight)
class FlightAdmin(ReadOnly):
    list_display = ["ticket_number", "coupon_number", "flight_date", "operating_carrier", "flight_number", "origin",
                    "destination", "passenger_name", "flown", "program"]  # fmt: skip
    list_filter = ["flown", "program"]
    search_fields = ["=ticket_number", "=pnr"]
    list_select_related = ["program"]
    show_full_result_count = False  # a feed of millions: no COUNT(*) per page view
    ordering = ["-id"]


@admin.register(FlightClaim)
class FlightClaimAdmin(ReadOnly):
    list_display = ["number", "program", "membership", "status", "coupon", "flight_date", "name_match",
                    "estimated_miles", "manual_entry", "submitted_at"]  # fmt: skip
    list_filter = ["status", "name_match", "manual_entry", "program"]
    search_fields = ["=number", "=ticket_number", "=membership__membership_number"]
    list_select_related = ["program", "membership"]
    inlines = [StateLogInline]
    date_hierarchy = "submitted_at"
