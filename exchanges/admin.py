"""Admin for exchanges: partner clients and conversion ratios to set; redemptions, operations and cases to see."""

import datetime as dt

from django.contrib import admin, messages
from django.db.models import Max, Q
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from exchanges.models import (
    AwardConversionRatio,
    CaseCorrection,
    CaseNote,
    ManualHandlingCase,
    PartnerClient,
    PointsOperation,
    Redemption,
    RedemptionTicket,
    RefundPolicy,
)
from loyalty.api_tokens import issue_token, rotation_overlap


class LookOnlyMixin:
    """Written by the services only (points, lifecycles): admin shows them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartnerClient)
class PartnerClientAdmin(SimpleHistoryAdmin):
    list_display = ["name", "user", "active", "token_issued", "token_expires"]
    list_filter = ["active"]
    search_fields = ["name", "user__username"]
    filter_horizontal = ["programs"]
    raw_id_fields = ["user"]
    actions = ["issue_token", "issue_token_with_overlap"]

    def get_queryset(self, request):
        # The newest token that still works, read with the list (knox keeps no clear key to show, only dates).
        working = Q(user__auth_token_set__expiry__isnull=True) | Q(user__auth_token_set__expiry__gt=timezone.now())
        return super().get_queryset(request).annotate(
            last_token_issued=Max("user__auth_token_set__created", filter=working),
            last_token_expires=Max("user__auth_token_set__expiry", filter=working),
        )

    @admin.display(description="token issued", ordering="last_token_issued")
    def token_issued(self, partner):
        issued = getattr(partner, "last_token_issued", None)
        return issued.strftime("%Y-%m-%d %H:%M") if issued else "none"

    @admin.display(description="token expires", ordering="last_token_expires")
    def token_expires(self, partner):
        expires = getattr(partner, "last_token_expires", None)
        return expires.strftime("%Y-%m-%d %H:%M") if expires else "-"

    @admin.action(description="Issue a new API token; the old ones stop working now (a leaked token)")
    def issue_token(self, request, queryset):
        self._issue(request, queryset, old_tokens_for=dt.timedelta(0))

    @admin.action(description="Issue a new API token; the old ones keep working a few days (a planned switch)")
    def issue_token_with_overlap(self, request, queryset):
        self._issue(request, queryset, old_tokens_for=rotation_overlap())

    def _issue(self, request, queryset, *, old_tokens_for):
        # The token is shown once, here: only its hash is stored. The partner's system is configured with it now.
        for partner in queryset.select_related("user"):
            row, token = issue_token(partner.user, old_tokens_for=old_tokens_for)
            if old_tokens_for:
                old = f"the old ones work until {(timezone.now() + old_tokens_for):%Y-%m-%d %H:%M} UTC at the latest"
            else:
                old = "the old ones no longer work"
            self.message_user(
                request,
                f"{partner}: new token {token} (shown once, copy it now; valid until {row.expiry:%Y-%m-%d %H:%M} "
                f"UTC); {old}.",
                messages.WARNING,
            )


@admin.register(AwardConversionRatio)
class AwardConversionRatioAdmin(SimpleHistoryAdmin):
    list_display = ["program", "market", "currency", "points_per_unit_redemption", "points_per_unit_mixed",
                    "minimum_points_per_ticket"]  # fmt: skip
    list_filter = ["program"]
    search_fields = ["market"]


@admin.register(RefundPolicy)
class RefundPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["program", "points_validity_months", "recredit_expired_points"]
    list_filter = ["recredit_expired_points"]


class TicketInline(LookOnlyMixin, admin.TabularInline):
    model = RedemptionTicket
    fields = ["ticket_number", "points", "points_refunded"]
    readonly_fields = fields
    extra = 0


class OperationInline(LookOnlyMixin, admin.TabularInline):
    model = PointsOperation
    fields = ["kind", "points", "points_forfeited", "cash_amount", "tickets", "activity", "idempotency_key",
              "created_at", "created_by"]  # fmt: skip
    readonly_fields = fields
    extra = 0


@admin.register(Redemption)
class RedemptionAdmin(LookOnlyMixin, admin.ModelAdmin):
    list_display = ["pnr", "program", "partner", "membership", "status", "points_captured", "points_refunded",
                    "created_at"]  # fmt: skip
    list_filter = ["status", "program", "partner"]
    list_select_related = ["program", "partner", "membership"]
    search_fields = ["pnr", "membership__membership_number"]
    inlines = [TicketInline, OperationInline]


@admin.register(PointsOperation)
class PointsOperationAdmin(LookOnlyMixin, admin.ModelAdmin):
    list_display = ["kind", "redemption", "partner", "points", "cash_amount", "created_at"]
    list_filter = ["kind", "partner"]
    list_select_related = ["redemption", "partner"]
    search_fields = ["redemption__pnr", "idempotency_key"]


class NoteInline(LookOnlyMixin, admin.TabularInline):
    model = CaseNote
    fields = ["sequence", "author", "created_at", "text"]
    readonly_fields = fields
    extra = 0


class CorrectionInline(LookOnlyMixin, admin.TabularInline):
    model = CaseCorrection
    fields = ["direction", "points", "status", "proposed_by", "proposed_at", "decided_by", "decided_at", "reason"]
    readonly_fields = fields
    extra = 0


@admin.register(ManualHandlingCase)
class ManualHandlingCaseAdmin(LookOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "redemption", "failed_step", "status", "assigned_to", "opened_at"]
    list_filter = ["status", "failed_step", "program"]
    list_select_related = ["redemption", "assigned_to"]
    search_fields = ["redemption__pnr"]
    inlines = [NoteInline, CorrectionInline]
