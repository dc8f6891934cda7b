"""Admin for exchanges: partner clients and conversion ratios to set; redemptions, operations and cases to see."""

from django.contrib import admin, messages
from django.db import transaction
from rest_framework.authtoken.models import Token
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
    list_display = ["name", "user", "active", "token_issued"]
    list_filter = ["active"]
    search_fields = ["name", "user__username"]
    filter_horizontal = ["programs"]
    raw_id_fields = ["user"]
    actions = ["issue_token"]

    @admin.display(description="token issued")
    def token_issued(self, partner):
        token = Token.objects.filter(user_id=partner.user_id).first()
        return token.created.strftime("%Y-%m-%d %H:%M") if token else "none"

    @admin.action(description="Issue a new API token (the old one stops working)")
    def issue_token(self, request, queryset):
        # The key is shown once, here: the partner's system is configured with it at once.
        for partner in queryset.select_related("user"):
            with transaction.atomic():
                Token.objects.filter(user=partner.user).delete()
                token = Token.objects.create(user=partner.user)
            self.message_user(request, f"{partner}: new token {token.key}", messages.WARNING)


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
