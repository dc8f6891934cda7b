"""Django admin for airline flight claims: each program's settings; the feed and the claims to read."""

from django.contrib import admin
from django_fsm_log.admin import StateLogInline
from simple_history.admin import SimpleHistoryAdmin

from retro.admin_base import ReadOnlyAdmin
from retro.models import Flight, FlightClaim, FlightSettings


@admin.register(FlightSettings)
class FlightSettingsAdmin(SimpleHistoryAdmin):
    list_display = [
        "program", "airline_code", "partner_codes", "wait_days", "claim_window_months", "enrolment_buffer_days",
        "service_level_days",
    ]  # fmt: skip
    list_select_related = ["program"]


@admin.register(Flight)
class FlightAdmin(ReadOnlyAdmin):
    list_display = ["ticket_number", "coupon_number", "flight_date", "operating_carrier", "flight_number", "origin",
                    "destination", "passenger_name", "flown", "program"]  # fmt: skip
    list_filter = ["flown", "program"]
    search_fields = ["=ticket_number", "=pnr"]
    list_select_related = ["program"]
    show_full_result_count = False  # a feed of millions: no COUNT(*) per page view
    ordering = ["-id"]


@admin.register(FlightClaim)
class FlightClaimAdmin(ReadOnlyAdmin):
    list_display = ["number", "program", "membership", "status", "coupon", "flight_date", "name_match",
                    "estimated_miles", "manual_entry", "submitted_at"]  # fmt: skip
    list_filter = ["status", "name_match", "manual_entry", "program"]
    search_fields = ["=number", "=ticket_number", "=membership__membership_number"]
    list_select_related = ["program", "membership"]
    inlines = [StateLogInline]
    date_hierarchy = "submitted_at"
