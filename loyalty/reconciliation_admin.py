"""Admin for what the scheduled work leaves behind, read-only: the reconciliation's runs (each check's count and first
violations) and the daily jobs' runs."""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from loyalty.models import JobRun, ReconciliationFinding, ReconciliationRun


class FindingInline(admin.TabularInline):
    model = ReconciliationFinding
    fields = ["check_name", "proves", "violations", "first_violations", "seconds"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="first violations")
    def first_violations(self, finding):
        if not finding.examples:
            return "none"
        items = format_html_join("", "<li><strong>{}</strong>: {}</li>", (tuple(pair) for pair in finding.examples))
        return format_html("<ul class='mb-0'>{}</ul>", items)


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "outcome", "violations", "checks_run", "trigger", "finished_at"]
    list_filter = ["trigger"]
    readonly_fields = ["started_at", "finished_at", "trigger", "checks_run", "violations"]
    inlines = [FindingInline]

    @admin.display(description="outcome")
    def outcome(self, run):
        if run.finished_at is None:
            return "running (or stopped)"
        return "OK" if run.ok else format_html("<strong style='color:#b02a37'>{} violation(s)</strong>", run.violations)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """The daily jobs' runs, as /health/ and /metrics read them: when each ran, how long, and how it ended."""

    list_display = ["job", "started_at", "finished_at", "outcome", "seconds", "summary"]
    list_filter = ["job", "succeeded"]
    readonly_fields = ["job", "started_at", "finished_at", "succeeded", "seconds", "summary"]

    @admin.display(description="outcome")
    def outcome(self, run):
        if run.succeeded is None:
            return "running (or stopped)"
        return "succeeded" if run.succeeded else format_html("<strong style='color:{}'>failed</strong>", "#b02a37")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
