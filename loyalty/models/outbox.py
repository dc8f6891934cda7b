"""The transactional outbox: background work recorded in the same database transaction as the data it follows."""

from django.db import models


class OutboxMessage(models.Model):
    """One Celery task to run, written with the data; relayed to the broker once it is reachable.

    A rollback loses it along with the data, a broker outage loses nothing: the relay
    (loyalty.background) sends what is pending when it can, and marks it sent.
    """

    task = models.CharField(max_length=100, help_text="The registered Celery task name.")
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The web request (or task) that queued it: the task's log lines carry the same id (loyalty.request_id).
    request_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(sent_at__isnull=True), name="outbox_pending"),
        ]

    def __str__(self):
        return f"{self.task} #{self.pk}"
