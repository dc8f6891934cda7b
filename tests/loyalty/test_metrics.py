"""GET /metrics: Prometheus's page, for the monitoring system only, with the business gauges read at scrape time."""

import dataclasses
import datetime as dt
import re

import pytest
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from loyalty import plugins
from loyalty.models import JobRun, OutboxMessage, ReconciliationRun
from retro.models import RetroClaimStatus
from tests.retro.factories import RetroClaimFactory

pytestmark = pytest.mark.django_db
S = RetroClaimStatus


def scrape(client, **headers):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)
    assert response.status_code == 200, response.content
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples[(name, tuple(sorted(labels.items())))]


def ago(**delta):
    return timezone.now() - dt.timedelta(**delta)


def test_it_shows_the_standard_request_and_database_metrics(client):
    client.get("/login/")
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert "django_http_requests_total_by_view_transport_method_total" in text
    assert re.search(r'django_db_execute_total\{alias="default",vendor="postgresql"\} \d', text)


def test_pending_approvals_per_queue_and_the_oldest_ones_age(client):
    RetroClaimFactory(status=S.PENDING_APPROVAL, submitted_at=ago(hours=5))
    RetroClaimFactory(status=S.PENDING_APPROVAL, submitted_at=ago(hours=1))
    RetroClaimFactory(status=S.OUTSTANDING, submitted_at=ago(days=3))  # waits for a transaction, not a person
    samples = scrape(client)
    assert value(samples, "loyalty_approvals_pending", queue="retro_claim") == 2
    assert value(samples, "loyalty_approvals_oldest_pending_age_seconds", queue="retro_claim") == pytest.approx(
        5 * 3600, abs=60
    )
    assert value(samples, "loyalty_approvals_pending", queue="flight_claim") == 0
    assert value(samples, "loyalty_approvals_oldest_pending_age_seconds", queue="flight_claim") == 0
    assert {"membership_claim", "adjustment_batch", "exchange_correction"} <= {
        dict(labels)["queue"] for name, labels in samples if name == "loyalty_approvals_pending"
    }


def test_the_outbox_backlog_and_its_lag(client):
    for minutes in (7, 2):
        message = OutboxMessage.objects.create(task="loyalty.relay_outbox")
        OutboxMessage.objects.filter(pk=message.pk).update(created_at=ago(minutes=minutes))
    OutboxMessage.objects.create(task="loyalty.relay_outbox", sent_at=timezone.now())
    samples = scrape(client)
    assert value(samples, "loyalty_outbox_waiting_messages") == 2
    assert value(samples, "loyalty_outbox_oldest_waiting_age_seconds") == pytest.approx(7 * 60, abs=30)


def test_the_daily_pass_last_duration_outcome_and_success(client):
    job = "retro.reprocess_retro_claims"
    JobRun.objects.create(job=job, started_at=ago(hours=25), finished_at=ago(hours=24), succeeded=True, seconds=61.5)
    failed = JobRun.objects.create(job=job, started_at=ago(hours=1), finished_at=ago(minutes=58), succeeded=False,
                                   seconds=120.0, summary="OperationalError")  # fmt: skip
    samples = scrape(client)
    assert value(samples, "loyalty_job_last_run_success", job=job) == 0
    assert value(samples, "loyalty_job_last_run_duration_seconds", job=job) == 120.0
    assert value(samples, "loyalty_job_last_run_timestamp_seconds", job=job) == failed.finished_at.timestamp()
    assert value(samples, "loyalty_job_last_success_timestamp_seconds", job=job) == pytest.approx(
        ago(hours=24).timestamp(), abs=60
    )


def test_failed_postings_per_source(client):
    RetroClaimFactory.create_batch(3, status=S.TRANSACTION_FAILED)
    RetroClaimFactory(status=S.MATCHED)
    samples = scrape(client)
    assert value(samples, "loyalty_failed_postings", source="retro_claim") == 3
    assert value(samples, "loyalty_failed_postings", source="stay") == 0
    assert value(samples, "loyalty_failed_postings", source="exchanges_manual_handling") == 0


def test_the_last_reconciliation(client):
    ReconciliationRun.objects.create(started_at=ago(hours=2), finished_at=ago(hours=2), trigger="beat", violations=4)
    samples = scrape(client)
    assert value(samples, "loyalty_reconciliation_violations") == 4


def test_a_gauge_that_cannot_be_read_is_named_and_the_others_still_shown(client, monkeypatch):
    def broken():
        raise RuntimeError("no such table")

    gauges = [dataclasses.replace(g, read=broken) if g.key == "retro-failed-postings" else g
              for g in plugins.BUSINESS_GAUGES]  # fmt: skip
    monkeypatch.setattr(plugins, "BUSINESS_GAUGES", gauges)
    samples = scrape(client)
    assert value(samples, "loyalty_business_gauges_failed", gauge="retro-failed-postings") == 1
    assert value(samples, "loyalty_failed_postings", source="stay") == 0


def test_it_requires_loopback_without_a_token(client):
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.9").status_code == 403
    # A reverse proxy on this machine connects from loopback, but says whom it forwards.
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 403


def test_it_requires_the_token_when_one_is_set(client):
    with override_settings(METRICS_TOKEN="s3cret-scrape"):
        assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        response = client.get("/metrics", REMOTE_ADDR="10.0.0.9", HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert response.status_code == 200 and b"loyalty_outbox_waiting_messages" in response.content
