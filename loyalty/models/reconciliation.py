"""The reconciliation's runs and what they found: written by loyalty.reconciliation, read in admin."""

from django.db import models


class ReconciliationRun(models.Model):
    """One pass over every registered invariant (daily from beat, or `manage.py reconcile`)."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    trigger = models.CharField(max_length=20, help_text="beat, command or admin.")
    checks_run = models.PositiveIntegerField(default=0)
    violations = models.PositiveIntegerField(default=0, help_text="All violations found, including those not listed.")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self):
        return f"Reconciliation of {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def ok(self):
        return self.finished_at is not None and self.violations == 0


class ReconciliationFinding(models.Model):
    """One check's outcome in a run, with its first violations as examples."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="findings")
    check_name = models.CharField("check", max_length=100)
    proves = models.TextField()
    violations = models.PositiveIntegerField(default=0)
    examples = models.JSONField(default=list, blank=True, help_text="[subject, what is wrong] of the first ones.")
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self):
        return f"{self.check_name}: {self.violations or 'OK'}"
