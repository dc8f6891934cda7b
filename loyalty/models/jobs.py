"""Runs of scheduled jobs (the daily passes), kept so that health checks and metrics can tell a late or failed one."""

from django.db import models


class JobRun(models.Model):
    """One run of a scheduled job, written by the job itself as it starts and as it ends.

    django-celery-beat's PeriodicTask.last_run_at says when beat *sent* the task, not whether a worker
    ran it to the end; this row says when it finished and how. A row without `finished_at` is running,
    or died without a word (a killed worker).
    """

    job = models.CharField(max_length=100, help_text="The job's name, e.g. its Celery task name.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded = models.BooleanField(null=True, help_text="Empty while the run is going on.")
    seconds = models.FloatField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text="What the run did, or the error that stopped it.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["job", "-started_at"], name="job_run_latest"),
            models.Index(
                fields=["job", "-finished_at"], condition=models.Q(succeeded=True), name="job_run_latest_success"
            ),
        ]

    def __str__(self):
        return f"{self.job} at {self.started_at:%Y-%m-%d %H:%M}"
