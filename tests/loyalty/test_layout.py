"""What every screen shares: an expired session under htmx, a wrong HTTP method, the favicon."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_an_htmx_request_after_the_session_expired_sends_the_browser_to_the_login_page(client):
    tab = reverse("member-profile-tab", args=["M1", "summary"])
    response = client.get(tab, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/members/M1/"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/login/?next=%2Fmembers%2FM1%2F"
    # Without htmx it is the usual redirect.
    assert client.get(tab).status_code == 302


def test_a_get_on_a_post_only_address_shows_a_page_inside_the_layout(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("retro-claim-approve", args=["RC00000001"]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "only for the buttons on a screen" in response.text and 'id="main-nav"' in response.text


def test_the_api_keeps_its_json_405(client, csr):
    client.force_login(csr)
    response = client.get(reverse("api-retro-claim-submit"))
    assert response.status_code == 405 and response["Content-Type"].startswith("application/json")


def test_every_page_names_its_icon_and_the_browsers_default_address_finds_it(client, csr):
    client.force_login(csr)
    assert 'rel="icon"' in client.get(reverse("home")).text
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("img/favicon.svg")
