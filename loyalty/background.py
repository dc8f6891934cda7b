"""Background work queued by task name once the surrounding transaction commits.

Services queue work through here and never import a tasks module: tasks import
services, not the reverse. A rollback queues nothing, and a worker never sees
rows that were not committed. Each app imports its tasks module from its
AppConfig.ready(), which registers the names.
"""

from django.db import transaction

from loyalty.celery import app


def queue_task(name, *args):
    """Run the Celery task registered as `name` with `args` after commit (at once outside a transaction)."""
    if name not in app.tasks:
        raise LookupError(f"No Celery task is registered as {name!r}: is its app's tasks module imported?")

    def send():
        app.tasks[name].delay(*args)

    transaction.on_commit(send)
