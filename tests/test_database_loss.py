"""A database connection lost in the middle of a request or a task (its backend terminated, as a restart or a
failover would): the request answers 503 with a message, the task is retried, and nothing is half-written."""

import pytest
from django.db import connection

from claims.models import Stay
from loyalty.celery import app
from loyalty.models import Activity
from tests.claims.factories import earning, hotel_program, membership_in, stay

pytestmark = pytest.mark.django_db(transaction=True)


def cut_own_connection():
    """Terminate this thread's database backend from another session, as a server restart would."""
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    params = {k: v for k, v in connection.get_connection_params().items()
              if k not in {"options", "prepare_threshold", "cursor_factory", "context"}}  # fmt: skip
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def cut_once(monkeypatch, target, name):
    """Make target.name cut the connection the first time it is called, then behave."""
    original, calls = getattr(target, name), []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            cut_own_connection()
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return calls


def test_a_screen_whose_connection_is_lost_says_so_with_a_503_page(monkeypatch, client, csr):
    from claims.views import search

    client.force_login(csr)
    cut_once(monkeypatch, search, "render")
    response = client.get("/claims/")
    assert response.status_code == 503 and "Nothing of what you were doing was saved" in response.content.decode()
    assert client.get("/claims/").status_code == 200  # a new connection for the next request


def test_a_task_whose_connection_is_lost_is_retried_and_credits_each_stay_once(monkeypatch, settings):
    from loyalty import services as loyalty_services

    settings.STAY_CALCULATION_WORKERS = 1
    program = hotel_program()
    earning(program)
    membership = membership_in(program)
    for number in ("R1", "R2", "R3"):
        stay(program, membership=membership, number=number)
    attempts = cut_once(monkeypatch, loyalty_services, "post_activities")
    # As a worker runs it (apply: eagerly, its retries included; throw=False: a retry is not an error here).
    result = app.tasks["claims.calculate_stays"].apply(throw=False)
    assert result.successful(), result.traceback
    assert len(attempts) == 2  # cut, then retried
    assert Stay.objects.filter(activity__isnull=False).count() == 3
    assert Activity.objects.filter(kind="stay").count() == 3
