"""Security defaults: a login lockout after repeated wrong passwords, throttling on the API, idle sessions ending,
and production settings that pass Django's deploy checks."""

import datetime as dt
import os
import subprocess
import sys

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import UserRateThrottle

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_five_wrong_passwords_lock_the_account_from_that_address_even_for_the_right_one(client, roles):
    UserFactory(username="casey", role="CSR")
    statuses = [client.post(reverse("login"), {"username": "casey", "password": "wrong"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]  # the fifth failure locks
    locked = client.post(reverse("login"), {"username": "casey", "password": "pass-word-123"})
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.text
    assert "_auth_user_id" not in client.session


def test_a_right_password_before_the_limit_resets_the_count(client, roles):
    UserFactory(username="sam", role="CSR")
    for _ in range(4):
        client.post(reverse("login"), {"username": "sam", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "sam", "password": "pass-word-123"}).status_code == 302


def test_the_api_throttles_a_partner_that_calls_too_often(csr, monkeypatch):
    cache.clear()
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {**api_settings.DEFAULT_THROTTLE_RATES, "user": "3/min"})
    api = APIClient()
    api.force_authenticate(csr)
    statuses = [api.get(reverse("api-retro-claim-detail", args=["NOPE"])).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    cache.clear()


def test_a_session_ends_after_the_idle_time_and_each_visit_moves_the_end_forward(client, roles, settings):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 3600
    client.force_login(UserFactory(username="casey", role="CSR"))
    assert client.get("/claims/").status_code == 200
    row = Session.objects.get()
    assert abs((row.expire_date - timezone.now()) - dt.timedelta(hours=1)) < dt.timedelta(minutes=1)
    # A visit after a quiet spell pushes the end an idle time ahead again.
    session = client.session
    session["_seen"] = 0
    session.save()
    Session.objects.update(expire_date=timezone.now() + dt.timedelta(minutes=5))
    assert client.get("/claims/").status_code == 200
    assert Session.objects.get().expire_date > timezone.now() + dt.timedelta(minutes=55)
    # Idle past the end: signed out.
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/claims/")
    assert response.status_code == 302 and response.url.startswith("/login/")


def test_production_settings_pass_the_deploy_checks():
    env = {"DJANGO_SETTINGS_MODULE": "loyalty.settings_production", "SECRET_KEY": "k" * 30 + "Zx9!q" * 6,
           "ALLOWED_HOSTS": "backoffice.example.com", "EMAIL_HOST": "smtp.example.com"}  # fmt: skip
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            env={**os.environ, **env}, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
