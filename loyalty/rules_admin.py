"""Django admin for the effective-dated earning rule sets and their rules (with their change history)."""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from loyalty.models import (
    Activity,
    EarningRule,
    EarningRuleSet,
)

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
