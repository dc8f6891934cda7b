"""Django admin for the retro app: key definitions (with recompute progress), settings, pool, claims, imports."""

from django.contrib import admin
from django.utils.html import format_html
from django_fsm_log.admin import StateLogInline

from retro import services
from retro.models import (
    RetroClaim,
    RetroClaimKey,
    RetroClaimKeyField,
    RetroImportBatch,
    RetroSettings,
    RetroTransaction,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only: admins look, search and filter, never edit by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


class RetroClaimKeyFieldInline(admin.TabularInline):
    model = RetroClaimKeyField
    fields = ["position", "field", "attribute_name"]
    ordering = ["position"]
    extra = 0
    min_num = 1


@admin.register(RetroClaimKey)
class RetroClaimKeyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "key_fields", "version", "recompute_progress"]
    list_filter = ["program", "recompute_state"]
    list_select_related = ["program"]
    inlines = [RetroClaimKeyFieldInline]
    fields = ["program", "transaction_type", "version", "recompute_progress", "recompute_error", "updated_at"]
    readonly_fields = ["version", "recompute_progress", "recompute_error", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("fields")

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


@admin.register(RetroSettings)
class RetroSettingsAdmin(admin.ModelAdmin):
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
                ]
            },
        ),
        ("Processing", {"fields": ["reprocessing_enabled", "approval_required", "auto_approve_max_points"]}),
        (
            "Member notifications",
            {
                "fields": [
                    "notify_submitted",
                    "notify_matched",
                    "notify_already_claimed",
                    "notify_failed",
                    "notify_not_matched",
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
        "started_by",
        "started_at",
    ]
    list_filter = ["state", "channel", "program"]
    list_select_related = ["program", "started_by"]
    search_fields = ["file_name"]
