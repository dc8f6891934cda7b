"""Admin for approval limits: the largest value each role may approve, per program and lifecycle."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from loyalty.lifecycle.decisions import POLICIES
from loyalty.models import ApprovalLimit


class ApprovalLimitForm(forms.ModelForm):
    lifecycle = forms.ChoiceField(help_text="What is approved: each app registers its approval lifecycles.")

    class Meta:
        model = ApprovalLimit
        fields = ["program", "lifecycle", "role", "max_value", "daily_max"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lifecycle"].choices = [(key, policy.label) for key, policy in sorted(POLICIES.items())]


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(SimpleHistoryAdmin):
    form = ApprovalLimitForm
    list_display = ["program", "lifecycle_label", "role", "max_value", "daily_max"]
    list_filter = ["program", "lifecycle", "role"]
    list_select_related = ["program", "role"]

    @admin.display(description="Lifecycle", ordering="lifecycle")
    def lifecycle_label(self, limit):
        policy = POLICIES.get(limit.lifecycle)
        return policy.label if policy else limit.lifecycle
