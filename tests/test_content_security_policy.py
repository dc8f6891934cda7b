"""The Content-Security-Policy: every page sends it, and the screens work under it with no violation."""

import pytest
from django.urls import reverse

from retro.models import RetroSettings
from retro.services import submit_retro_claim
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program


@pytest.mark.django_db
def test_every_page_forbids_inline_scripts(client, csr):
    client.force_login(csr)
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy


@pytest.mark.browser
def test_the_screens_run_under_the_policy_without_a_violation(supervisor, login, live_server):
    program = retro_program()
    RetroSettings.objects.filter(program=program).update(approval_required=True)
    membership = member_in(program)
    claims = [
        submit_retro_claim(
            membership=membership, channel="csr", submitted_by=None,
            key_values=key_values_of(RetroTransactionFactory(program=program)),
        )
        for _ in range(2)
    ]  # fmt: skip
    page = login(supervisor)
    violations = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)  # fmt: skip
    member_url = f"{live_server.url}{membership.member.get_absolute_url()}"
    for path in [
        reverse("member-search") + "?name=lef",
        membership.member.get_absolute_url(),
        reverse("retro-claim-activity"),
        reverse("retro-claim-detail", args=[claims[0].number]),
        reverse("api-docs"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    # Behaviour from app.js: tabs and the queue's selection.
    page.goto(member_url)
    page.get_by_role("tab", name="Activities").click()
    page.wait_for_selector("#tab-activities")
    assert "tab=activities" in page.url
    page.goto(f"{live_server.url}{reverse('retro-approval-queue')}")
    page.check("#select-all")
    assert page.locator("#selected-count").inner_text() == "2 selected"
    assert violations == []
