"""Claims carry their member's name for the grid's member sort; the database keeps it right however rows change."""

import pytest
from django.db import connection
from django.urls import reverse

from loyalty.models import Member
from retro.models import RetroClaim
from tests.factories import MemberFactory
from tests.retro.factories import RetroClaimFactory, member_in, retro_program

pytestmark = pytest.mark.django_db
ACTIVITY = reverse("retro-claim-activity")


def stored_name(claim):
    return RetroClaim.objects.values_list("member_name", flat=True).get(pk=claim.pk)


def grid_numbers(client, **params):
    return [c.number for c in client.get(ACTIVITY, params).context["page"].object_list]


def test_a_new_claim_takes_its_members_name():
    claim = RetroClaimFactory(membership=member_in(retro_program(), first_name="Élodie", last_name="Dupré"))
    assert stored_name(claim) == "elodie dupre"


def test_a_claim_copied_in_with_raw_sql_takes_the_name_too():
    claim = RetroClaimFactory(membership=member_in(retro_program(), first_name="Ana", last_name="Lima"))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE retro_retroclaim SET member_name = 'wrong' WHERE id = %s", [claim.pk])
    assert stored_name(claim) == "ana lima"


def test_a_renamed_member_resorts_their_claims(client, csr):
    program = retro_program()
    zed = RetroClaimFactory(membership=member_in(program, first_name="Zed", last_name="Zorn"), number="RCZ")
    RetroClaimFactory(membership=member_in(program, first_name="Mia", last_name="Moss"), number="RCM")
    client.force_login(csr)
    assert grid_numbers(client, sort="member") == ["RCM", "RCZ"]
    member = zed.membership.member
    member.first_name, member.last_name = "Abe", "Abbot"
    member.save()
    assert stored_name(zed) == "abe abbot"
    assert grid_numbers(client, sort="member") == ["RCZ", "RCM"]


def test_a_membership_moved_to_another_member_takes_that_members_name():
    claim = RetroClaimFactory(membership=member_in(retro_program(), first_name="Old", last_name="Owner"))
    other = MemberFactory(first_name="New", last_name="Holder")
    claim.membership.member = other
    claim.membership.save()
    assert stored_name(claim) == "new holder"


def test_saving_a_claim_instance_again_never_blanks_the_name():
    claim = RetroClaimFactory(membership=member_in(retro_program(), first_name="Kim", last_name="Park"))
    stale = RetroClaim.objects.get(pk=claim.pk)
    stale.member_name = ""
    stale.failure_reason = "checked"
    stale.save()
    assert stored_name(claim) == "kim park"
    assert Member.objects.filter(search_name="kim park").exists()
