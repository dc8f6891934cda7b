"""Django admin for the retro app: key definitions (with recompute progress), settings, pool, claims, imports."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Trim
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html
from django_fsm_log.admin import StateLogInline
from simple_history.admin import SimpleHistoryAdmin

from retro import services
from retro.admin_base import ReadOnlyAdmin
from retro.models import (
    RetroClaim,
    RetroClaimKey,
    RetroClaimKeyField,
    RetroClaimStatus,
    RetroImportBatch,
    RetroSettings,
    RetroTransaction,
)

CONFIRM_FIELD = "confirm_unmatchable"


def outstanding_claims_lacking(key, form_names):
    """How many Outstanding claims of this key have no value (absent or blank) for one of these parts of a key."""
    claims = RetroClaim.objects.filter(
        program_id=key.program_id, transaction_type=key.transaction_type, status=RetroClaimStatus.OUTSTANDING
    )
    lacking = Q()
    for index, name in enumerate(form_names):
        alias = f"part_{index}"
        value = Coalesce(Trim(KeyTextTransform(name, "key_values")), Value(""), output_field=TextField())
        claims = claims.alias(**{alias: value})
        lacking |= Q(**{alias: ""})
    return claims.filter(lacking).count()


def needs_key_values_url(key):
    """Retro Claim Activity listing this key's program's claims a key change left unmatchable."""
    query = urlencode({"key_values": "missing", "status": RetroClaimStatus.OUTSTANDING, "program": key.program_id})
    return f"{reverse('retro-claim-activity')}?{query}"


class RetroClaimKeyFieldFormSet(BaseInlineFormSet):
    """A key that gains a part: first say how many Outstanding claims have no value for it, and save on confirmation.

    Saved, the recomputation gives each of them an unmatchable key ("!c<id>", retro.keys): they wait,
    listed under "Needs key values" on Retro Claim Activity, until a CSR completes them.
    """

    lacking = 0
    added_labels = ""

    def clean(self):
        super().clean()
        key = self.instance
        if key.pk is None or any(self.errors):
            return  # a new key has no claims yet; field errors first
        parts = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("field") and not data.get("DELETE"):
                part = RetroClaimKeyField(field=data["field"], attribute_name=data.get("attribute_name") or "")
                parts[part.form_name] = str(part)
        current = {part.form_name for part in RetroClaimKeyField.objects.filter(key=key)}
        added = [name for name in parts if name not in current]
        if not added:
            return
        self.lacking = outstanding_claims_lacking(key, added)
        self.added_labels = ", ".join(parts[name] for name in added)
        if self.lacking and not self.data.get(CONFIRM_FIELD):
            raise ValidationError(
                f"{self.lacking:,} Outstanding claim{'s' if self.lacking != 1 else ''} of {key} "
                f"{'have' if self.lacking != 1 else 'has'} no value for {self.added_labels}. Once saved, "
                f"{'they' if self.lacking != 1 else 'it'} can no longer match any transaction until a CSR adds the "
                "value (Retro claim activity, Key values: Needs key values). To go ahead, tick “Save anyway” "
                "below and save again."
            )


class RetroClaimKeyForm(forms.ModelForm):
    # Offered only on a save (see get_fields): it answers the count the key fields' check gives.
    confirm_unmatchable = forms.BooleanField(
        required=False,
        label="Save anyway",
        help_text="Only asked when a new part would leave Outstanding claims without a value for it.",
    )

    class Meta:
        model = RetroClaimKey
        fields = ["program", "transaction_type"]


class RetroClaimKeyFieldInline(admin.TabularInline):
    model = RetroClaimKeyField
    formset = RetroClaimKeyFieldFormSet
    fields = ["position", "field", "attribute_name"]
    ordering = ["position"]
    extra = 0
    min_num = 1


@admin.register(RetroClaimKey)
class RetroClaimKeyAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "key_fields", "version", "recompute_progress"]
    list_filter = ["program", "recompute_state"]
    list_select_related = ["program"]
    inlines = [RetroClaimKeyFieldInline]
    form = RetroClaimKeyForm
    fields = [
        "program", "transaction_type", "version", "recompute_progress", "recompute_error", "needs_key_values",
        "updated_at",
    ]  # fmt: skip
    readonly_fields = ["version", "recompute_progress", "recompute_error", "needs_key_values", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("fields")

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        # The confirmation belongs to a save the key fields' check stopped, never to a fresh form.
        return fields + [CONFIRM_FIELD] if request.method == "POST" and obj is not None else fields

    @admin.display(description="Claims needing key values")
    def needs_key_values(self, obj):
        if obj.pk is None:
            return "-"
        waiting = RetroClaim.objects.filter(
            program_id=obj.program_id,
            transaction_type=obj.transaction_type,
            status=RetroClaimStatus.OUTSTANDING,
            match_key__startswith="!",
        ).count()
        if not waiting:
            return "None: every Outstanding claim has a value for each part of the key."
        return format_html(
            '{} Outstanding claim{} cannot match until a CSR completes {}: <a href="{}">list them</a>',
            f"{waiting:,}",
            "s" if waiting != 1 else "",
            "their key values" if waiting != 1 else "its key values",
            needs_key_values_url(obj),
        )

    @admin.display(description="Key fields")
    def key_fields(self, obj):
        return " + ".join(str(f) for f in sorted(obj.fields.all(), key=lambda f: f.position))

    @admin.display(description="Stored keys")
    def recompute_progress(self, obj):
        if obj.pk is None:
            return "-"
        total, done = obj.recompute_total, obj.recompute_done
        if obj.recompute_state == RetroClaimKey.RecomputeState.IDLE:
            return f"Up to date (version {obj.version})"
        percent = int(done * 100 / total) if total else 0
        return format_html(
            '{} · {} / {} ({}%) <progress max="{}" value="{}"></progress>',
            obj.get_recompute_state_display(),
            f"{done:,}",
            f"{total:,}",
            percent,
            total or 1,
            done,
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change or form.has_changed() or any(fs.has_changed() for fs in formsets):
            # Transactions and Outstanding claims are re-keyed by a Celery task queued on commit.
            key = services.schedule_key_recompute(key=form.instance)
            self.message_user(
                request,
                f"Key definition is now version {key.version}; stored keys are being recomputed in the background.",
            )
            lacking = max((getattr(fs, "lacking", 0) for fs in formsets), default=0)
            if lacking:
                labels = next(fs.added_labels for fs in formsets if getattr(fs, "lacking", 0))
                self.message_user(
                    request,
                    format_html(
                        '{} Outstanding claim{} without a value for {} can no longer match: <a href="{}">list them '
                        "on Retro claim activity</a> so a CSR can complete them.",
                        f"{lacking:,}",
                        "s" if lacking != 1 else "",
                        labels,
                        needs_key_values_url(key),
                    ),
                    level=messages.WARNING,
                )


@admin.register(RetroSettings)
class RetroSettingsAdmin(SimpleHistoryAdmin):
    list_display = [
        "program",
        "retro_enabled",
        "submission_limit",
        "max_transaction_age_days",
        "transaction_lifetime_days",
        "reprocessing_enabled",
        "approval_required",
    ]
    list_filter = ["retro_enabled", "reprocessing_enabled", "approval_required"]
    list_select_related = ["program"]
    fieldsets = [
        (None, {"fields": ["program", "retro_enabled"]}),
        (
            "Limits",
            {
                "fields": [
                    "submission_limit_count",
                    "submission_limit_days",
                    "max_transaction_age_days",
                    "transaction_lifetime_days",
                    "enrolment_buffer_days",
                    "max_transaction_amount",
                ]
            },
        ),
        (
            "Processing",
            {
                "fields": [
                    "reprocessing_enabled",
                    "approval_required",
                    "auto_approve_max_points",
                    "review_above_points",
                ]
            },
        ),
        (
            "Member notifications",
            {
                "fields": [
                    "notify_submitted",
                    "notify_matched",
                    "notify_already_claimed",
                    "notify_failed",
                    "notify_not_matched",
                    "notify_rejected",
                    "notify_reversed",
                ]
            },
        ),
    ]

    @admin.display(description="Submission limit")
    def submission_limit(self, obj):
        if obj.submission_limit_count is None:
            return "None"
        return f"{obj.submission_limit_count} per {obj.submission_limit_days} days"


class ClaimedFilter(admin.SimpleListFilter):
    title = "claimed"
    parameter_name = "claimed"

    def lookups(self, request, model_admin):
        return [("yes", "Claimed"), ("no", "In the pool")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(claimed_by__isnull=self.value() == "no")
        return queryset


@admin.register(RetroTransaction)
class RetroTransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "source_id",
        "program",
        "transaction_type",
        "occurred_at",
        "location_code",
        "reference",
        "amount",
        "currency",
        "expires_on",
        "claimed_by",
    ]
    list_filter = ["program", "transaction_type", ClaimedFilter, "expires_on", "import_batch"]
    search_fields = ["=source_id", "=reference", "=match_key"]
    list_select_related = ["program", "claimed_by"]
    show_full_result_count = False  # a million-row pool: no COUNT(*) per page view
    ordering = ["-occurred_at", "-id"]


@admin.register(RetroClaim)
class RetroClaimAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "program",
        "membership",
        "status",
        "channel",
        "submitted_at",
        "transaction_date",
        "matched_transaction",
        "attempt_count",
    ]
    list_filter = ["status", "channel", "program", "transaction_type"]
    search_fields = ["=number", "=membership__membership_number", "=match_key"]
    list_select_related = ["program", "membership", "matched_transaction"]
    inlines = [StateLogInline]
    date_hierarchy = "submitted_at"


@admin.register(RetroImportBatch)
class RetroImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "program",
        "channel",
        "state",
        "rows_total",
        "rows_imported",
        "rows_duplicate",
        "rows_rejected",
        "rows_posted",
        "claims_matched",
        "started_by",
        "started_at",
    ]
    list_filter = ["state", "channel", "program"]
    list_select_related = ["program", "started_by"]
    search_fields = ["file_name"]


from retro.flights import admin as flight_admin  # noqa: E402, F401 - registers the flight claim models
