"""The sign-in reads every screen request makes: the session, the user and their permissions, one statement each."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)  # no permissions cached yet


def test_own_and_group_permissions_are_read_in_one_query(roles):
    user = UserFactory(username="mixed")
    user.user_permissions.add(Permission.objects.get(codename="view_membershipclaim"))
    group = Group.objects.create(name="Notes")
    group.permissions.add(Permission.objects.get(codename="add_claimnote"))
    user.groups.add(group)
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("claims.view_membershipclaim")
        assert user.has_perm("claims.add_claimnote")
        assert not user.has_perm("claims.change_membershipclaim")
        assert user.get_all_permissions() == {"claims.view_membershipclaim", "claims.add_claimnote"}
    assert len(queries) == 1


def test_a_role_group_gives_what_django_s_own_backend_gives(csr):
    from django.contrib.auth.backends import ModelBackend

    assert fresh(csr).get_all_permissions() == ModelBackend().get_all_permissions(fresh(csr))
    assert fresh(csr).get_all_permissions()  # the CSR role holds permissions


def test_an_inactive_user_has_none_and_a_superuser_has_all(csr, admin_user):
    csr.is_active = False
    csr.save()
    assert fresh(csr).get_all_permissions() == set()
    assert not fresh(csr).has_perm("claims.view_membershipclaim")
    assert len(fresh(admin_user).get_all_permissions()) == Permission.objects.count()


def test_a_permission_granted_later_is_seen_on_the_next_request(outsider):
    assert not fresh(outsider).has_perm("claims.view_membershipclaim")
    outsider.user_permissions.add(Permission.objects.get(codename="view_membershipclaim"))
    assert fresh(outsider).has_perm("claims.view_membershipclaim")


def test_the_signed_in_user_is_read_with_one_statement_and_an_inactive_one_is_signed_out(client, csr):
    from loyalty.auth_backends import ModelBackendOneQuery

    backend = ModelBackendOneQuery()
    with CaptureQueriesContext(connection) as queries:
        user = backend.get_user(str(csr.pk))  # as the session holds it
    assert user == csr and user.first_name == "Casey" and user.password == csr.password and len(queries) == 1
    assert backend.get_user("not-a-number") is None and backend.get_user(csr.pk + 1000) is None
    csr.is_active = False
    csr.save()
    assert backend.get_user(csr.pk) is None


def test_a_session_is_read_by_its_key_until_it_expires(client, csr):
    import datetime as dt

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from loyalty.sessions import SessionStore

    client.force_login(csr)
    key = client.cookies["sessionid"].value
    assert SessionStore(key).get("_auth_user_id") == str(csr.pk)
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.get("_auth_user_id") is None and expired.session_key is None
    assert client.get("/").status_code == 302  # signed out: back to the login page


def test_the_query_log_shows_a_prepared_statement_with_its_values(csr):
    from loyalty import sql

    with CaptureQueriesContext(connection) as queries:
        for _ in range(8):  # prepared by psycopg after five runs (settings: prepare_threshold)
            sql.run("SELECT username FROM auth_user WHERE id = %s", [csr.pk])
    assert [q["sql"] for q in queries.captured_queries] == [f"SELECT username FROM auth_user WHERE id = {csr.pk}"] * 8
