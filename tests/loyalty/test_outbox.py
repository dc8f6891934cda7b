"""The transactional outbox: a task is recorded with the data, or not at all; a dead broker keeps it waiting."""

import pytest
from django.core.management import call_command
from django.db import transaction

from loyalty.background import queue_task, relay_outbox
from loyalty.models import OutboxMessage
from tests.redis_broker import RedisServer, celery_on

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "loyalty.relay_outbox"  # any registered task will do; this one is harmless


def test_a_rolled_back_write_queues_nothing():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_task(TASK)
        raise RuntimeError("the write failed")
    assert not OutboxMessage.objects.exists()


def test_an_unknown_task_name_is_refused_before_anything_is_written():
    with pytest.raises(LookupError, match="No Celery task is registered as 'nowhere.nothing'"):
        queue_task("nowhere.nothing")
    assert not OutboxMessage.objects.exists()


def test_a_dead_broker_leaves_the_message_waiting_with_the_error_and_the_command_sends_it_later(capsys):
    server = RedisServer()  # not started: nothing listens on its port
    with celery_on(server.url):
        message = queue_task(TASK)
        message.refresh_from_db()
        assert message.sent_at is None and message.attempts == 1 and "Error" in message.last_error
        try:
            server.start()
            call_command("relay_outbox")
        finally:
            server.stop()
    message.refresh_from_db()
    assert message.sent_at is not None
    assert "1 sent; 0 still waiting" in capsys.readouterr().out
    assert relay_outbox() == 0
