"""Background work through a transactional outbox: recorded with the data, relayed to Celery when it can be.

Services queue a task by name with queue_task(); it becomes an OutboxMessage row
in the caller's database transaction, so a rollback queues nothing and a commit
keeps it whatever happens to the broker. Right after the commit the message is
handed to Celery; if the broker is unreachable the request still answers as
usual and the message waits. relay_outbox() sends whatever waits: the beat task
`loyalty.relay_outbox` runs it every minute, and `manage.py relay_outbox` by
hand. Tasks are idempotent (they take ids and check what is already done), so
the rare message sent twice (a crash between sending and marking it sent)
does no harm. Services never import a tasks module: tasks import services.
"""

import functools
import logging

from celery import shared_task
from django.db import connections, transaction
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachable

from loyalty import request_id
from loyalty.celery import app
from loyalty.models import OutboxMessage

logger = logging.getLogger(__name__)
RELAY_BATCH = 500
# What a dead or unreachable broker raises while publishing (redis, amqp and SQLAlchemy transports).
BROKER_ERRORS = (BrokerUnreachable, ConnectionError, OSError, TimeoutError)


def task(name, *, max_retries=5):
    """Declare a Celery task of the project, registered under `name` (queue_task's name for it).

    A lost database connection (a restart, a failover, a killed backend) rolled the task's transaction back
    with it: the task closes the broken connection and is retried, with a growing delay. Tasks are
    idempotent, so running one again is safe.
    """

    def declare(function):
        @shared_task(name=name, bind=True, max_retries=max_retries)
        @functools.wraps(function)
        def run(self, *args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                logger.warning("Task %s lost its database connection (%s); retrying", name, error)
                for connection in connections.all(initialized_only=True):
                    connection.close()
                raise self.retry(exc=error, countdown=min(60, 2**self.request.retries)) from error

        return run

    return declare


def queue_task(name, *args):
    """Record the Celery task `name` with `args` in the outbox, in the current transaction; sent after commit."""
    if name not in app.tasks:
        raise LookupError(f"No Celery task is registered as {name!r}: is its app's tasks module imported?")
    message = OutboxMessage.objects.create(task=name, args=list(args), request_id=request_id.current())
    transaction.on_commit(lambda: relay_outbox(ids=[message.pk]))
    return message


def relay_outbox(*, ids=None, limit=RELAY_BATCH):
    """Hand waiting messages to Celery, oldest first; returns how many were sent.

    Each message is locked while it is sent (SKIP LOCKED: two relays never send the same one)
    and marked sent in the same transaction. The first broker error stops the round: the
    rest waits for the next one.
    """
    sent = 0
    with transaction.atomic():
        waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            waiting = waiting.filter(pk__in=ids)
        for message in waiting.order_by("pk")[:limit]:
            try:
                # The id of the request that queued it goes along, for the task's log lines (loyalty.request_id).
                headers = {"headers": {request_id.CELERY_HEADER: message.request_id}} if message.request_id else {}
                app.tasks[message.task].apply_async(args=message.args, **headers)
            except BROKER_ERRORS as error:
                if app.conf.task_always_eager:
                    raise  # the task itself ran and failed: that is no broker outage
                message.attempts += 1
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                message.save(update_fields=["attempts", "last_error"])
                logger.warning("Broker unreachable; %s waits in the outbox: %s", message, error)
                break
            message.sent_at = timezone.now()
            message.attempts += 1
            message.save(update_fields=["sent_at", "attempts"])
            sent += 1
    return sent


def waiting_count():
    return OutboxMessage.objects.filter(sent_at__isnull=True).count()


def oldest_waiting_since():
    """When the oldest message still waiting was recorded, or None (the partial index `outbox_pending` serves it)."""
    return (
        OutboxMessage.objects.filter(sent_at__isnull=True).order_by("id").values_list("created_at", flat=True).first()
    )
