"""Roles, navigation, login/logout, the API plumbing and the production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_the_four_roles_exist_with_permissions():
    for name in ["CSR", "Supervisor", "Admin", "Member"]:
        assert Group.objects.get(name=name).permissions.exists()
    assert Group.objects.get(name="CSR").permissions.filter(codename="view_member").exists()
    assert not Group.objects.get(name="Member").permissions.filter(codename="view_member").exists()


def test_navigation_shows_what_the_role_may_use(client, csr, member_user):
    client.force_login(csr)
    text = client.get(reverse("home")).text
    assert ">Members</a>" in text and ">Admin</a>" not in text
    client.force_login(member_user)
    text = client.get(reverse("home")).text
    assert ">Members</a>" not in text


def test_admin_sees_the_admin_link(client, admin_user):
    client.force_login(admin_user)
    assert ">Admin</a>" in client.get(reverse("home")).text


def test_login_and_logout(client, csr):
    response = client.post(reverse("login"), {"username": "csr", "password": "pass-word-123"})
    assert response.status_code == 302
    assert client.get(reverse("member-search")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("member-search")).status_code == 302


def test_wrong_password_says_so(client, csr):
    response = client.post(reverse("login"), {"username": "csr", "password": "nope"})
    assert "didn't match" in response.text


def test_home_requires_login(client):
    assert client.get(reverse("home")).status_code == 302


def test_api_schema_and_docs_are_served(client, csr):
    schema = client.get(reverse("api-schema"))
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200
    # Served from the sidecar package: the docs page must work without internet.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.text
    assert "cdn.jsdelivr" not in docs.text


def test_api_rejects_anonymous_calls(client):
    from rest_framework.test import APIClient

    api = APIClient()
    assert api.get("/api/retro/claims/NOPE/").status_code in {401, 404}


def _run_with_production_settings(*args, secret="k7#Qz!vR2p@Lm9wX4t$Yb8nE6s^Hd3Fg5jU1cA0oTiWqPzMxNyB"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loyalty.settings_production",
        "ALLOWED_HOSTS": "example.com",
        "EMAIL_HOST": "smtp.example.com",
    }
    env.pop("SECRET_KEY", None)
    if secret:
        env["SECRET_KEY"] = secret
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = _run_with_production_settings("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "issues" in (result.stdout + result.stderr)


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _run_with_production_settings("check", secret=None)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_settings_refuse_to_print_members_emails_to_the_console():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loyalty.settings_production", "ALLOWED_HOSTS": "example.com"}
    env.pop("EMAIL_HOST", None)
    env.pop("EMAIL_BACKEND", None)
    env["SECRET_KEY"] = "k7#Qz!vR2p@Lm9wX4t$Yb8nE6s^Hd3Fg5jU1cA0oTiWqPzMxNyB"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "No e-mail server is configured" in result.stderr
