"""Django admin for the loyalty core: programs, members, tiers, rule sets, and the read-only ledger."""

import datetime as dt
import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.html import format_html
from knox.admin import AuthTokenAdmin, AuthTokenCreateForm
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from loyalty import selectors, services
from loyalty.api_tokens import token_ttl
from loyalty.models import (
    Activity,
    EarningRule,
    EarningRuleSet,
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


# Earning rule sets -------------------------------------------------------------


def _local_today(program):
    return program.local_date(timezone.now())


class InForceFilter(admin.SimpleListFilter):
    title = "period"
    parameter_name = "period"

    def lookups(self, request, model_admin):
        return [("today", "In force today"), ("future", "Starts later"), ("past", "Ended")]

    def queryset(self, request, queryset):
        today = timezone.localdate()  # close enough to filter; the column uses each program's own zone
        if self.value() == "today":
            return queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today), valid_from__lte=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        if self.value() == "past":
            return queryset.filter(valid_to__lt=today)
        return queryset


class EarningRuleInline(admin.StackedInline):
    model = EarningRule
    extra = 0
    fieldsets = [
        (
            None,
            {"fields": [("name", "activity_kind"), ("calculation", "metric"), ("points", "rate"), "class_multipliers"]},
        ),
        (
            "Conditions",
            {"fields": [("tier", "location"), ("cabin", "booking_class", "min_amount"), ("tracker", "tracker_min")]},
        ),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "activity_kind":
            choices = [("", "Any kind that earns")] + [
                c for c in Activity.Kind.choices if c[0] in {"flight", "stay", "purchase"}
            ]
            return forms.ChoiceField(choices=choices, required=False, label="Activity kind")
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def _used(self, obj):
        return obj is not None and obj.is_used

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and not self._used(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._used(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._used(obj)


class EarningRuleSetForm(forms.ModelForm):
    class Meta:
        model = EarningRuleSet
        fields = ["program", "name", "valid_from", "valid_to"]

    def clean(self):
        data = super().clean()
        instance = self.instance
        if instance.pk is not None and "valid_to" in self.fields:
            last_used = instance.activities.aggregate(last=Max("occurred_on"))["last"]
            valid_to = data.get("valid_to")
            if last_used is not None and valid_to is not None and valid_to < last_used:
                self.add_error(
                    "valid_to",
                    f"Activities dated up to {last_used.isoformat()} were valued with this set: "
                    "it must stay in force until then.",
                )
        return data


@admin.register(EarningRuleSet)
class EarningRuleSetAdmin(SimpleHistoryAdmin):
    form = EarningRuleSetForm
    list_display = ["name", "program", "valid_from", "valid_to", "in_force_today", "used", "rule_count"]
    list_filter = [InForceFilter, "program"]
    list_select_related = ["program"]
    search_fields = ["name", "program__name"]
    inlines = [EarningRuleInline]
    actions = ["copy_as_next_set"]
    ordering = ["program", "-valid_from"]

    USED_NOTE = (
        "This rule set has valued activities, so it can no longer be edited or deleted: late postings dated in "
        "its period must keep earning what it said. To change the rules, create a new rule set for the new period "
        "(the “Copy as the next rule set” action copies its rules)."
    )

    def get_queryset(self, request):
        used = Exists(Activity.objects.filter(rule_set=OuterRef("pk")))
        return super().get_queryset(request).annotate(is_used_flag=used, rule_total=Count("rules"))

    @admin.display(description="In force today", boolean=True)
    def in_force_today(self, obj):
        return obj.covers(_local_today(obj.program))

    @admin.display(description="Used (read-only)", boolean=True, ordering="is_used_flag")
    def used(self, obj):
        return obj.is_used_flag

    @admin.display(description="Rules", ordering="rule_total")
    def rule_count(self, obj):
        return obj.rule_total

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_used:
            # Only an open end may be closed (so that the next set can start).
            return ["program", "name", "valid_from"] + ([] if obj.valid_to is None else ["valid_to"])
        return []

    def has_change_permission(self, request, obj=None):
        # A used set that already has an end is view-only; an open-ended one may still be closed.
        closed_and_used = obj is not None and obj.valid_to is not None and obj.is_used
        return super().has_change_permission(request, obj) and not closed_and_used

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_used)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None and obj.is_used and request.method == "GET":
            note = self.USED_NOTE
            if obj.valid_to is None:
                note += " As it is open-ended, you may still give it an end date."
            messages.warning(request, note)
        extra_context = {**(extra_context or {}), "rule_set_is_used": obj is not None and obj.is_used}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Copy as the next rule set (starts the day after it ends)")
    def copy_as_next_set(self, request, queryset):
        for rule_set in queryset.select_related("program"):
            if rule_set.valid_to is None:
                self.message_user(
                    request,
                    f"“{rule_set.name}” is open-ended: give it an end date first, then copy it.",
                    messages.ERROR,
                )
                continue
            copy = EarningRuleSet(
                program=rule_set.program,
                name=f"{rule_set.name} (from {rule_set.valid_to + dt.timedelta(days=1)})"[:100],
                valid_from=rule_set.valid_to + dt.timedelta(days=1),
            )
            try:
                copy.full_clean()
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
                continue
            with transaction.atomic():
                copy.save()
                for rule in rule_set.rules.all():
                    rule.pk, rule.rule_set = None, copy
                    rule._state.adding = True
                    rule.save()
            self.message_user(request, f"Created “{copy}”: edit its rules before it comes into force.")


@admin.register(EarningRule)
class EarningRuleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "rule_set", "activity_kind", "calculation", "metric", "points", "rate", "tier"]
    list_filter = ["rule_set__program", "calculation", "metric", "activity_kind"]
    list_select_related = ["rule_set", "tier"]
    search_fields = ["name", "rule_set__name"]

    def _used(self, obj):
        return obj is not None and obj.rule_set.is_used

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not self._used(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not self._used(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "rule_set":
            kwargs["queryset"] = EarningRuleSet.objects.exclude(
                Exists(Activity.objects.filter(rule_set=OuterRef("pk")))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


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

# Admin pages that live beside their subject; importing them registers them: the lifecycle kit's (approval
# limits), the reconciliation's runs, the roles with their history.
from loyalty import reconciliation_admin, roles_admin  # noqa: E402, F401, I001
from loyalty.lifecycle import admin as lifecycle_admin  # noqa: E402, F401


class ApiTokenCreateForm(AuthTokenCreateForm):
    """knox's form (the token is shown once after saving), with an expiry that is required and proposed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expiry = self.fields["expiry"]
        expiry.required = True
        expiry.initial = timezone.now() + token_ttl()
        expiry.help_text = "The token is refused after this (UTC). Proposed: API_TOKEN_TTL_DAYS from now."


# knox's admin (its app "Knox", model "Auth tokens": digests and dates only), with that form.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class ApiTokenAdmin(AuthTokenAdmin):
    add_form = ApiTokenCreateForm
    list_display = ["user", "created", "expiry", "digest"]
    list_select_related = ["user"]
    ordering = ["-created"]

    def get_readonly_fields(self, request, obj=None):
        # A stored token: only its expiry changes (to cut it short); delete it to revoke it.
        return ["user", "token_key", "digest", "created"] if obj else []
