"""Run callables at the same instant, each in its own thread and database connection (races on PostgreSQL)."""

import threading
from contextlib import contextmanager

from django.db import connection, connections

from loyalty.idempotency import LOCK_ID


def race(workers):
    """Run every callable at once; return their results, or the exception each raised."""
    barrier = threading.Barrier(len(workers))
    results = [None] * len(workers)

    def run(index, work):
        try:
            barrier.wait(timeout=30)
            results[index] = work()
        except Exception as exc:  # collected and asserted on by the caller
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@contextmanager
def key_in_flight(*, user, scope, key):
    """The first request with an Idempotency-Key, still running: another connection holds the key's lock."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT pg_advisory_lock({LOCK_ID})", {"user": user.pk, "scope": scope, "key": key})
        yield
    finally:
        other.close()  # as when the first request's process dies: its lock goes with its connection
