"""A request's id in its own log lines, its response, and the log lines of the tasks it queued."""

import io
import json
import logging

import pytest
from django.test import override_settings
from kombu import Connection

from loyalty import request_id
from loyalty.background import queue_task, relay_outbox
from loyalty.models import OutboxMessage
from tests.loyalty import request_id_urls  # noqa: F401 - registers the task tests.log_from_task
from tests.redis_broker import RedisServer, celery_on

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.loyalty.request_id_urls")]


@pytest.fixture
def json_lines():
    """The lines the test logger writes, as the JSON formatter writes them (LOG_FORMAT=json)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(request_id.RequestIdFilter())
    with override_settings(LOG_FORMAT="json"):
        handler.setFormatter(request_id.formatter())
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_the_request_and_the_task_it_queued_log_the_callers_id(client, json_lines, django_capture_on_commit_callbacks):
    # The task is relayed after the commit, once the request is over: the id travels with the outbox message.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/queue-and-log/", HTTP_X_REQUEST_ID="lb-7f3a9c")
    assert response["X-Request-ID"] == "lb-7f3a9c"
    page, task = json_lines()
    assert page["message"] == "the page queued a task" and task["message"] == "the task ran for member 42"
    assert page["request_id"] == task["request_id"] == "lb-7f3a9c"
    assert page["level"] == "WARNING" and page["logger"] == "tests.request_id"


def test_without_an_id_the_request_gets_one_and_answers_it(client, json_lines, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get("/queue-and-log/", HTTP_X_REQUEST_ID="not an id; <script>")
    given = response["X-Request-ID"]
    assert len(given) == 32 and given.isalnum()
    assert [line["request_id"] for line in json_lines()] == [given, given]


def test_a_message_waiting_in_the_outbox_keeps_the_id_for_the_later_relay(client, json_lines):
    # Not relayed after the commit (the broker was down, say): beat's relay sends it later, outside the request.
    client.get("/queue-and-log/", HTTP_X_REQUEST_ID="req-123")
    message = OutboxMessage.objects.get(task="tests.log_from_task")
    assert message.request_id == "req-123" and message.sent_at is None
    assert request_id.current() == ""  # the request is over
    relay_outbox()
    assert [line["request_id"] for line in json_lines()] == ["req-123", "req-123"]


def test_the_relay_sends_the_id_to_a_real_broker_as_a_message_header(transactional_db):
    server = RedisServer()
    server.start()
    try:
        with celery_on(server.url):
            message = OutboxMessage.objects.create(task="tests.log_from_task", args=["x"], request_id="req-456")
            assert relay_outbox(ids=[message.pk]) == 1
        with Connection(server.url) as connection:
            queued = connection.SimpleQueue("celery").get(timeout=5)
            headers = queued.headers
    finally:
        server.stop()
    assert headers["task"] == "tests.log_from_task" and headers[request_id.CELERY_HEADER] == "req-456"


def test_a_task_queued_by_no_request_logs_under_its_own_task_id(json_lines):
    queue_task("tests.log_from_task", "beat")
    relay_outbox()
    (line,) = json_lines()
    assert line["request_id"] not in ("", "-")


def test_the_text_format_shows_the_id_in_brackets():
    record = logging.makeLogRecord({"name": "loyalty", "levelname": "INFO", "msg": "hello", "request_id": "abc"})
    with override_settings(LOG_FORMAT="text"):
        assert "INFO loyalty [abc] hello" in request_id.formatter().format(record)
