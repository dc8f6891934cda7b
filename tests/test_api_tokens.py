"""API tokens (django-rest-knox): stored as a hash only, refused once expired or rotated out, issued by a command
or in admin (shown once), read with the partner client in one query, and the clear tokens of before migrated."""

import datetime as dt
import importlib
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from exchanges.authentication import PartnerTokenAuthentication
from exchanges.models import PartnerClient
from loyalty.api_tokens import issue_token
from tests.factories import UserFactory
from tests.retro.import_helpers import program_with_purchase_key

pytestmark = pytest.mark.django_db
URL = "/api/retro/transactions/"  # an API endpoint under the default authentication: the search


@pytest.fixture
def supervisor(roles):
    program_with_purchase_key()
    return UserFactory(username="api-supervisor", role="Supervisor")


def call(token):
    return APIClient().get(URL, {"program": "shop"}, HTTP_AUTHORIZATION=f"Token {token}")


def issue(*args):
    out, err = StringIO(), StringIO()
    call_command("issue_api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def stored_anywhere(text):
    """Tables of the database whose rows contain `text`, in any column."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        found = []
        for table in tables:
            cursor.execute(f'SELECT 1 FROM "{table}" t WHERE t::text LIKE %s LIMIT 1', [f"%{text}%"])
            if cursor.fetchone():
                found.append(table)
    return found


def test_a_token_is_stored_as_its_hash_only(supervisor):
    token, _ = issue("api-supervisor")
    assert call(token).status_code == 200
    row = AuthToken.objects.get(user=supervisor)
    assert row.digest == hash_token(token) and len(token) == 64
    assert stored_anywhere(token) == [] and stored_anywhere(token[15:]) == []


def test_the_command_prints_the_token_once_with_its_expiry(supervisor, settings):
    settings.API_TOKEN_TTL_DAYS = 30
    token, said = issue("api-supervisor")
    row = AuthToken.objects.get(user=supervisor)
    assert token and "\n" not in token and token not in said
    assert abs(row.expiry - (timezone.now() + dt.timedelta(days=30))) < dt.timedelta(minutes=1)
    assert f"valid until {row.expiry:%Y-%m-%d %H:%M} UTC" in said and "its other tokens are unchanged" in said
    issue("api-supervisor", "--days", "2")
    newest = AuthToken.objects.filter(user=supervisor).order_by("-created").first()
    assert newest.expiry < timezone.now() + dt.timedelta(days=2, minutes=1)
    with pytest.raises(CommandError, match="No user 'nobody'"):
        issue("nobody")
    with pytest.raises(CommandError, match="--days is at least 1"):
        issue("api-supervisor", "--days", "0")


def test_an_expired_token_is_refused(supervisor):
    row, token = issue_token(supervisor, days=1)
    assert call(token).status_code == 200
    AuthToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = call(token)
    assert response.status_code == 401 and str(response.data["detail"]) == "Token expired."
    assert response.headers["WWW-Authenticate"] == "Token"


def test_a_rotated_out_token_is_refused_and_the_new_one_works(supervisor):
    old, _ = issue("api-supervisor")
    new, said = issue("api-supervisor", "--revoke-old")
    assert "its other tokens no longer work" in said
    assert call(old).status_code == 401 and call(new).status_code == 200
    assert AuthToken.objects.filter(user=supervisor).count() == 1


def test_a_rotation_with_overlap_keeps_the_old_token_until_then(supervisor):
    old, _ = issue("api-supervisor")
    new, said = issue("api-supervisor", "--overlap-days", "2")
    assert "its other tokens work 2 more day(s) at most" in said
    assert call(old).status_code == 200 and call(new).status_code == 200
    old_row = AuthToken.objects.get(digest=hash_token(old))
    assert old_row.expiry <= timezone.now() + dt.timedelta(days=2)
    # Expired tokens are deleted when the user is next issued one.
    AuthToken.objects.filter(pk=old_row.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert call(old).status_code == 401
    issue("api-supervisor")
    assert not AuthToken.objects.filter(pk=old_row.pk).exists()


def test_a_wrong_or_garbled_token_and_an_inactive_user_are_refused(supervisor):
    _, token = issue_token(supervisor)
    assert call(token[:-1] + ("0" if token[-1] != "0" else "1")).status_code == 401
    assert call("\u00e9t\u00e9").status_code == 401
    supervisor.is_active = False
    supervisor.save()
    assert call(token).status_code == 401


def test_the_partner_client_is_read_with_the_token_in_one_query(supervisor):
    partner = PartnerClient.objects.create(name="engine", user=UserFactory(username="engine"))
    _, token = issue_token(partner.user)
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as queries:
        user, auth = PartnerTokenAuthentication().authenticate(request)
        assert user.partner_client == partner
    assert len(queries) == 1 and isinstance(auth, AuthToken)


def test_the_schema_keeps_its_security_scheme_names():
    schemes = SchemaGenerator().get_schema(public=True)["components"]["securitySchemes"]
    assert set(schemes) == {"tokenAuth", "partnerTokenAuth", "cookieAuth"}
    described = 'Token-based authentication with required prefix "Token"'
    assert schemes["tokenAuth"] == {"type": "apiKey", "in": "header", "name": "Authorization", "description": described}


def test_an_admin_adds_a_token_in_admin_and_sees_it_once(client, admin_user, supervisor):
    client.force_login(admin_user)
    form = client.get("/admin/knox/authtoken/add/")
    assert form.status_code == 200 and 'name="expiry_0"' in form.content.decode()
    expiry = timezone.now() + dt.timedelta(days=5)
    fields = {"user": supervisor.pk, "expiry_0": f"{expiry:%Y-%m-%d}", "expiry_1": f"{expiry:%H:%M:%S}"}
    response = client.post("/admin/knox/authtoken/add/", fields, follow=True)
    [message] = [str(m) for m in response.context["messages"] if str(m).startswith("TOKEN ")]
    token = message.removeprefix("TOKEN ")
    assert AuthToken.objects.get(user=supervisor).digest == hash_token(token)
    assert call(token).status_code == 200
    assert client.get("/admin/knox/authtoken/").status_code == 200


MIGRATION = importlib.import_module("loyalty.migrations.0020_api_tokens_hashed_with_knox")


def test_the_migration_hashes_an_existing_clear_token_which_keeps_working(supervisor, settings):
    """A database from before: REST framework's authtoken table with a clear token, its content type,
    a permission and migration records. After the migration the same token works, stored hashed."""
    settings.API_TOKEN_TTL_DAYS = 90
    clear = "0f1e2d3c4b5a69788796a5b4c3d2e1f001234567"  # as REST framework makes them: 40 hex characters
    created = timezone.now() - dt.timedelta(days=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz NOT NULL, "
            "user_id integer NOT NULL UNIQUE REFERENCES auth_user (id))"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [clear, created, supervisor.pk])
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', now())"
        )
    kind = ContentType.objects.create(app_label="authtoken", model="token")
    Permission.objects.create(content_type=kind, codename="view_token", name="Can view Token")
    assert call(clear).status_code == 401

    with connection.schema_editor() as editor:
        MIGRATION.hash_clear_tokens(apps, editor)

    row = AuthToken.objects.get(user=supervisor)
    assert row.digest == hash_token(clear) and row.token_key == clear[:15] and row.created == created
    assert abs(row.expiry - (timezone.now() + dt.timedelta(days=90))) < dt.timedelta(minutes=1)
    assert call(clear).status_code == 200
    assert stored_anywhere(clear) == []
    assert "authtoken_token" not in connection.introspection.table_names()
    assert not ContentType.objects.filter(app_label="authtoken").exists()
    assert not Permission.objects.filter(codename="view_token").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone() == (0,)


def test_the_migration_does_nothing_without_clear_tokens():
    with connection.schema_editor() as editor:
        MIGRATION.hash_clear_tokens(apps, editor)
    assert not AuthToken.objects.exists()
