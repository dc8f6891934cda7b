"""GET /health/, the load balancer's question: 200 when every part answers, 503 naming the part and why."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from loyalty.models import JobRun, OutboxMessage
from retro.tasks import reprocess_retro_claims
from tests.redis_broker import RedisServer

pytestmark = pytest.mark.django_db
DAILY_PASS = "retro.reprocess_retro_claims"


def health(client, query=""):
    response = client.get(f"/health/{query}")
    return response.status_code, response.json()


def ran(job, *, hours_ago, succeeded=True, summary="done"):
    finished = timezone.now() - dt.timedelta(hours=hours_ago)
    return JobRun.objects.create(
        job=job, started_at=finished - dt.timedelta(minutes=3), finished_at=finished, succeeded=succeeded,
        seconds=180, summary=summary,
    )  # fmt: skip


def test_it_answers_200_with_every_part_without_login_or_session(client):
    status, body = health(client)
    assert status == 200 and body["status"] == "ok"
    assert {"database", "broker", "outbox", "retro_daily_pass"} <= set(body["parts"])
    assert all(part["ok"] for part in body["parts"].values())
    assert "sessionid" not in client.cookies


def test_it_answers_the_probe_of_any_host_over_plain_http_as_production_settings_stand(client):
    # A load balancer asks by address, over HTTP behind its TLS termination.
    with override_settings(ALLOWED_HOSTS=["backoffice.example.com"], SECURE_SSL_REDIRECT=True):
        response = client.get("/health/", HTTP_HOST="10.0.3.17:8000")
    assert response.status_code == 200 and response["Cache-Control"].startswith("max-age=0")


def test_a_database_that_does_not_answer_is_503_naming_the_database(client, monkeypatch):
    def refused(*args, **kwargs):
        raise ConnectionError("connection to server at 127.0.0.1 refused")

    monkeypatch.setattr(connection, "cursor", refused)
    status, body = health(client)
    assert status == 503 and body["status"] == "failing"
    assert "refused" in body["failing"]["database"]


def test_an_unreachable_redis_broker_is_503_naming_the_broker(client):
    server = RedisServer()  # never started: nothing listens on its port
    with override_settings(REDIS_URL=server.url, HEALTH_BROKER_TIMEOUT_SECONDS=0.5):
        status, body = health(client)
    assert status == 503 and list(body["failing"]) == ["broker"]
    assert "Error" in body["failing"]["broker"]


def test_a_redis_broker_that_answers_is_healthy(client):
    server = RedisServer()
    server.start()
    try:
        with override_settings(REDIS_URL=server.url):
            status, body = health(client)
    finally:
        server.stop()
    assert status == 200 and body["parts"]["broker"]["detail"] == "Redis answered PING"


def test_an_outbox_message_waiting_past_the_threshold_is_503_naming_the_outbox(client):
    message = OutboxMessage.objects.create(task="loyalty.relay_outbox")
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - dt.timedelta(minutes=20))
    with override_settings(HEALTH_OUTBOX_MAX_AGE_SECONDS=900):
        status, body = health(client)
    assert status == 503 and list(body["failing"]) == ["outbox"]
    assert "over 900 s" in body["failing"]["outbox"]
    with override_settings(HEALTH_OUTBOX_MAX_AGE_SECONDS=3600):
        assert health(client)[0] == 200  # the threshold is a setting


def test_a_daily_pass_that_last_succeeded_too_long_ago_is_503_naming_it(client):
    ran(DAILY_PASS, hours_ago=30)
    status, body = health(client)
    assert status == 503 and list(body["failing"]) == ["retro_daily_pass"]
    assert "last succeeded 30.0 h ago" in body["failing"]["retro_daily_pass"]


def test_a_daily_pass_whose_only_runs_failed_is_503_with_the_error(client):
    ran(DAILY_PASS, hours_ago=1, succeeded=False, summary="OperationalError: server closed the connection")
    status, body = health(client)
    assert status == 503 and "server closed the connection" in body["failing"]["retro_daily_pass"]


def test_the_daily_pass_task_records_its_success_and_health_says_so(client):
    ran(DAILY_PASS, hours_ago=30)
    reprocess_retro_claims.delay()
    status, body = health(client)
    assert status == 200
    assert "retro daily pass succeeded 0.0 h ago" in body["parts"]["retro_daily_pass"]["detail"]
    run = JobRun.objects.filter(job=DAILY_PASS).first()
    assert run.succeeded and "outstanding claims processed" in run.summary


def test_a_daily_pass_disabled_in_the_schedule_is_not_awaited(client):
    ran(DAILY_PASS, hours_ago=30)
    PeriodicTask.objects.filter(task=DAILY_PASS).update(enabled=False)
    status, body = health(client)
    assert status == 200 and "disabled in the schedule" in body["parts"]["retro_daily_pass"]["detail"]


def test_the_load_balancer_may_ask_only_the_parts_it_acts_on(client):
    ran(DAILY_PASS, hours_ago=30)
    status, body = health(client, "?part=database,broker&part=outbox")
    assert status == 200 and set(body["parts"]) == {"database", "broker", "outbox"}
