"""Who the claims screens offer as owners and submitters (seed 002: users allowed to administer claims)."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.selectors import claim_owners, claim_submitters
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def direct(username, codename):
    user = UserFactory(username=username)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="claims", codename=codename))
    return user


def names(users):
    return sorted(user.username for user in users)


def test_owners_are_active_editors_through_a_group_or_directly_and_superusers(csr, supervisor, admin_user, outsider):
    direct("editor", "change_membershipclaim")
    direct("submitter", "submit_primary_claim")
    gone = direct("gone", "change_membershipclaim")
    gone.is_active = False
    gone.save()
    owners = names(claim_owners())
    assert "editor" in owners and "admin" in owners and "csr" in owners  # the CSR group may edit claims
    assert not {"submitter", "gone", "outsider"} & set(owners)


def test_submitters_include_those_with_only_a_submit_right(csr, outsider):
    direct("submitter", "submit_nonprimary_claim")
    direct("viewer", "view_membershipclaim")
    submitters = names(claim_submitters())
    assert "submitter" in submitters and "csr" in submitters
    assert "viewer" not in submitters and "outsider" not in submitters


def test_a_permission_of_the_same_name_in_another_app_does_not_make_an_owner(roles):
    elsewhere = ContentType.objects.get(app_label="loyalty", model="member")
    other = Permission.objects.create(content_type=elsewhere, codename="change_membershipclaim", name="Same name")
    user = UserFactory(username="elsewhere")
    user.user_permissions.add(other)
    assert "elsewhere" not in names(claim_owners())


def test_each_list_is_one_query(csr, supervisor):
    with CaptureQueriesContext(connection) as queries:
        list(claim_owners())
        list(claim_submitters())
    assert len(queries) == 2
