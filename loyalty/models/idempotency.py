"""Idempotency keys: a partner's retried request, or a form posted twice, has its effect once."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """The first request made with a key, and the response it got (kept to answer its repeats), written in the
    transaction of the request's effect."""

    # Indexed by the unique (user, scope, key) below, which starts with the user: no index of its own to write.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    scope = models.CharField(max_length=60, help_text="The operation the key belongs to, e.g. a claim submission.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="one_request_per_idempotency_key"),
        ]

    def __str__(self):
        return f"{self.scope} · {self.key}"
