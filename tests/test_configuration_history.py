"""Admins' configuration changes keep a before/after history with who and when, shown in admin."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from exchanges.models import AwardConversionRatio
from loyalty.models import ApprovalLimit
from tests.factories import ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, roles):
    client.force_login(UserFactory(username="ada", first_name="Ada", role="Admin", is_staff=True, is_superuser=True))
    return client


def test_a_conversion_ratio_changed_in_admin_keeps_its_before_and_after_with_who_and_when(admin_client):
    program = ProgramFactory(code="fly")
    ratio = AwardConversionRatio.objects.create(program=program, market="FR", currency="EUR",
                                                points_per_unit_redemption=Decimal("100"),
                                                points_per_unit_mixed=Decimal("80"))  # fmt: skip
    form = {"program": program.pk, "market": "FR", "currency": "EUR", "points_per_unit_redemption": "120",
            "points_per_unit_mixed": "80", "minimum_points_per_ticket": "0"}  # fmt: skip
    response = admin_client.post(f"/admin/exchanges/awardconversionratio/{ratio.pk}/change/", form)
    assert response.status_code == 302
    latest, first = ratio.history.order_by("-history_id")[:2]
    assert latest.history_user.username == "ada" and latest.history_type == "~"
    [change] = latest.diff_against(first).changes
    assert (change.field, change.old, change.new) == ("points_per_unit_redemption", Decimal("100"), Decimal("120"))
    page = admin_client.get(f"/admin/exchanges/awardconversionratio/{ratio.pk}/history/").content.decode()
    assert "ada" in page and "Changed" in page


def test_a_roles_permissions_and_an_approval_limit_keep_their_history(admin_client):
    role = Group.objects.get(name="CSR")
    before = set(role.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(codename="approve_casecorrection")
    form = {"name": "CSR", "permissions": [*before, extra.pk]}
    assert admin_client.post(f"/admin/auth/group/{role.pk}/change/", form).status_code == 302
    latest = role.history.latest("history_id")
    assert latest.history_user.username == "ada"
    assert extra.pk in {p.permission_id for p in latest.permissions.all()}
    limit = ApprovalLimit.objects.create(program=ProgramFactory(code="stay"), lifecycle="membership_claim",
                                         role=role, max_value=1000)  # fmt: skip
    limit.max_value = 2000
    limit.save()
    assert [h.max_value for h in limit.history.order_by("history_id")] == [1000, 2000]
    assert admin_client.get(f"/admin/auth/group/{role.pk}/history/").status_code == 200
