"""Security defaults: a login lockout after repeated wrong passwords, and throttling on the API."""

import pytest
from django.core.cache import cache
from django.urls import reverse
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
