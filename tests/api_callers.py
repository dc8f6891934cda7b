"""The callers the REST API tests sign in as (schemathesis, stateless and stateful), and how they call it."""

from contextlib import contextmanager

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.factories import UserFactory

ROLES = ["admin", "CSR", "Supervisor", "Member", "partner"]


def api_user(role, program):
    """A user of each kind the API meets: an admin reaches every endpoint, a partner client of `program` its
    bookings; the other roles meet its refusals."""
    if role == "admin":
        return UserFactory(username="api-admin", is_staff=True, is_superuser=True)
    if role == "partner":
        from exchanges.models import PartnerClient

        partner = PartnerClient.objects.create(name="engine", user=UserFactory(username="engine"))
        partner.programs.set([program])
        return partner.user
    return UserFactory(username=role.lower(), role=role)


@contextmanager
def requests_keep_the_test_connection():
    """As Django's test client does: a request sent to the WSGI application must not close the test's database
    connection (its transaction holds the test's data)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
