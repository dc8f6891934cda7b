"""Django admin for the loyalty core: programs, members, tiers and the read-only ledger (rule sets and API tokens:
rules_admin.py, api_tokens_admin.py)."""

import json

from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from loyalty import selectors, services
from loyalty.models import (
    Activity,
    LedgerEntry,
    Location,
    Member,
    Membership,
    Metric,
    Program,
    Tier,
    TierPeriod,
)


class ReadOnlyMixin:
    """Append-only rows: written by loyalty.services, only looked at here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Programs, tiers, locations ----------------------------------------------------


class TierInline(admin.TabularInline):
    model = Tier
    fields = ["rank", "code", "name"]
    extra = 0


@admin.register(Program)
class ProgramAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "kind", "currency_name", "time_zone"]
    list_filter = ["kind"]
    search_fields = ["name", "code"]
    inlines = [TierInline]


@admin.register(Tier)
class TierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "program", "rank"]
    list_filter = ["program"]
    list_select_related = ["program"]
    search_fields = ["name", "code"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "program", "city", "country"]
    list_filter = ["program", "kind", "country"]
    list_select_related = ["program"]
    search_fields = ["code", "name", "city"]


# Members and memberships -------------------------------------------------------


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ["membership_number", "program", "membership_type", "card_level", "joined_on", "expires_on"]
    extra = 0
    show_change_link = True


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ["member_number", "last_name", "first_name", "email", "status", "enrolled_on"]
    list_filter = ["status", "memberships__program"]
    search_fields = ["member_number", "search_name", "email", "memberships__membership_number"]
    raw_id_fields = ["user"]
    inlines = [MembershipInline]
    show_full_result_count = False


class TierPeriodInline(ReadOnlyMixin, admin.TabularInline):
    """History is changed through "Add tier period" (change_tier), never edited in place."""

    model = TierPeriod
    fields = ["tier", "valid_from", "valid_to", "reason", "changed_by", "created_at"]
    readonly_fields = fields
    ordering = ["-valid_from"]
    extra = 0


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["membership_number", "member", "program", "current_tier", "card_level", "joined_on", "expires_on"]
    list_filter = ["program", "membership_type"]
    list_select_related = ["member", "program"]
    search_fields = ["membership_number", "member__member_number", "member__search_name", "member__email"]
    raw_id_fields = ["member"]
    readonly_fields = ["balances"]
    inlines = [TierPeriodInline]
    show_full_result_count = False

    def get_queryset(self, request):
        open_tier = TierPeriod.objects.filter(membership=OuterRef("pk"), valid_to__isnull=True).values("tier__name")
        return super().get_queryset(request).annotate(current_tier_name=Subquery(open_tier[:1]))

    @admin.display(description="Tier now", ordering="current_tier_name")
    def current_tier(self, obj):
        return obj.current_tier_name or "—"

    @admin.display(description="Balances")
    def balances(self, obj):
        if obj.pk is None:
            return "—"
        totals = selectors.balances(obj)
        shown = ", ".join(f"{Metric(m).label}: {q:,}" for m, q in totals.items() if q)
        return f"Award points: {selectors.award_total(totals):,}" + (f" ({shown})" if shown else "")


class TierChangeForm(forms.ModelForm):
    class Meta:
        model = TierPeriod
        fields = ["membership", "tier", "valid_from", "reason"]
        labels = {"valid_from": "Effective on"}

    def clean(self):
        data = super().clean()
        membership, tier, effective_on = data.get("membership"), data.get("tier"), data.get("valid_from")
        if membership and tier and effective_on:
            services.validate_tier_change(membership=membership, tier=tier, effective_on=effective_on)
        return data

    def _post_clean(self):
        # The service, not the model, decides (the open period is closed first): skip full_clean.
        pass


@admin.register(TierPeriod)
class TierPeriodAdmin(admin.ModelAdmin):
    """Adding a period changes the tier: the open period is closed the day before."""

    form = TierChangeForm
    list_display = ["membership", "tier", "valid_from", "valid_to", "reason", "changed_by"]
    list_filter = ["tier__program", "tier"]
    list_select_related = ["membership", "membership__program", "tier", "changed_by"]
    search_fields = ["membership__membership_number", "membership__member__member_number", "reason"]
    raw_id_fields = ["membership"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        period = services.change_tier(
            membership=data["membership"],
            tier=data["tier"],
            effective_on=data["valid_from"],
            reason=data.get("reason", ""),
            changed_by=request.user,
        )
        # The admin logs and redirects with `obj`: make it the period just opened.
        obj.__dict__.update({k: v for k, v in period.__dict__.items() if k != "_state"})
        obj._state.adding = False


# The ledger (read-only) ----------------------------------------------------------


class LedgerEntryInline(ReadOnlyMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ["metric", "quantity", "created_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Activity)
class ActivityAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "membership",
        "kind",
        "occurred_on",
        "posted_at",
        "award_points",
        "source",
        "external_reference",
    ]
    list_filter = ["kind", "source", "membership__program", ("occurred_on", admin.DateFieldListFilter)]
    list_select_related = ["membership"]
    search_fields = ["=external_reference", "=membership__membership_number", "=membership__member__member_number"]
    inlines = [LedgerEntryInline]
    readonly_fields = ["explanation_text"]
    exclude = ["explanation"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(award_total=selectors.activity_award_total())

    @admin.display(description="Award points", ordering="award_total")
    def award_points(self, obj):
        return int(obj.award_total or 0)

    @admin.display(description="Explanation")
    def explanation_text(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.explanation, indent=2, ensure_ascii=False))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "activity", "membership", "metric", "quantity", "created_at"]
    list_filter = ["metric", "membership__program"]
    list_select_related = ["activity", "activity__membership", "membership"]
    search_fields = ["=membership__membership_number", "=activity__external_reference"]
    show_full_result_count = False


# Admin pages that live beside their subject; importing them registers them: the earning rule sets, the API
# tokens, the lifecycle kit's (approval limits), the reconciliation's runs, the roles with their history.
from loyalty import api_tokens_admin, reconciliation_admin, roles_admin, rules_admin  # noqa: E402, F401, I001
from loyalty.lifecycle import admin as lifecycle_admin  # noqa: E402, F401
