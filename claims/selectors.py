"""Reads the claims screens share: who may see or submit what, the lamp, claims due, the claim with its notes."""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import F
from django.urls import reverse

from claims.grid import USER_FIELDS, attach_lookups, claims_by_id
from claims.models import ClaimNote, ClaimStatus, MembershipClaim
from loyalty import sql
from loyalty.lookups import AnyOf

VIEW_PERMISSIONS = (
    "claims.view_membershipclaim",
    "claims.change_membershipclaim",
    "claims.submit_primary_claim",
    "claims.submit_nonprimary_claim",
    "claims.add_claimnote",
)
# What the claim screen and the grid show of each claim's relations: one query for a page of claims.
CLAIM_RELATIONS = (
    "program", "membership__member", "claim_type", "origin", "owner", "submitted_by", "hotel", "adjustment_code",
)  # fmt: skip


def may_see_claims(user):
    """Seed 002: any of the claims permissions shows the lamp and the view-only claim screen."""
    return any(user.has_perm(name) for name in VIEW_PERMISSIONS)


def primary_membership_id(member):
    """The member's primary membership: the first they joined (the card they enrolled with)."""
    first = member.memberships.order_by("joined_on", "id").values_list("pk", flat=True).first()
    return first


def may_submit_for(user, membership):
    """Seed 002's PRIMARY / NON PRIMARY CLAIMS SUBMIT: separate rights for the two kinds of membership."""
    if primary_membership_id(membership.member) == membership.pk:
        return user.has_perm("claims.submit_primary_claim")
    return user.has_perm("claims.submit_nonprimary_claim")


def may_submit_any(user):
    return user.has_perm("claims.submit_primary_claim") or user.has_perm("claims.submit_nonprimary_claim")


def claims_visible_to(user):
    """Every claim, for a user with one of the claims permissions; none otherwise."""
    if not may_see_claims(user):
        return MembershipClaim.objects.none()
    return MembershipClaim.objects.all()


def claim_with_relations(user, pk):
    """The claim screen's claim: its member and lists joined (claims.grid.claims_by_id); origin, property and
    people read apart (claims.grid.attach_lookups), as eleven joins cost more to plan than the page takes to run.
    None for a user who may not see claims, as for a number no claim has."""
    claim = claims_by_id([pk]).get(pk) if may_see_claims(user) else None
    return attach_lookups([claim])[0] if claim is not None else None


def claim_notes(claim):
    return ClaimNote.objects.filter(claim=claim).select_related("activity_type", "author").order_by("sequence")


_NOTE_LINKS = [ClaimNote._meta.get_field(name) for name in ("activity_type", "author")]
_chronology_statement = []


def claim_chronology(claim):
    """The claim's notes in sequence, each with its activity type and author, as claim_notes() reads them, by
    a statement prepared once per process (loyalty.sql): compiling the queryset cost more than reading it."""
    if not _chronology_statement:
        activity_type, author = (link.related_model for link in _NOTE_LINKS)
        columns, readers = sql.joined_columns([("n", ClaimNote), ("t", activity_type), ("u", author, USER_FIELDS)])
        n, t, u = sql.Names(ClaimNote), sql.Names(activity_type), sql.Names(author)
        _chronology_statement.append((
            f"SELECT {', '.join(columns)} FROM {n.table} n"
            f" LEFT JOIN {t.table} t ON t.{t.pk} = n.{n.activity_type}"
            f" LEFT JOIN {u.table} u ON u.{u.pk} = n.{n.author}"
            f" WHERE n.{n.claim} = %s ORDER BY n.{n.sequence}",
            readers,
        ))  # fmt: skip
    statement, (read_note, read_type, read_author) = _chronology_statement[0]
    notes = []
    for row in sql.run(statement, [claim.pk]):
        note = read_note(row)
        for link, value in zip(_NOTE_LINKS, (read_type(row), read_author(row)), strict=True):
            link.set_cached_value(note, value)
        notes.append(note)
    return notes


def claims_lamp(user, member, membership):
    """The member profile's claims lamp: lit while the member has a claim that is not CLOSED."""
    count = MembershipClaim.objects.filter(membership__member=member).exclude(status=ClaimStatus.CLOSED).count()
    url = f"{reverse('claim-search')}?name={member.member_number}"
    if not count:
        return {"lit": False, "title": "No open claims", "url": url, "count": 0}
    noun = "claim" if count == 1 else "claims"
    return {"lit": True, "count": count, "title": f"{count} open {noun}: open the member's claims", "url": url}


def _users_with(*codenames):
    """Active users holding one of these claims permissions (through a group or directly), and superusers.

    Read from the permissions' side (which groups and users hold them), not by joining every user to every
    permission of every group: that join cost 3 ms to plan and 4 to run for fifty staff, twice per search page.
    A fresh clone each time: the rows are read anew, only the building (three subqueries) is done once.
    """
    return _holders_of(codenames).all()


@functools.cache
def _holders_of(codenames):
    User = get_user_model()
    held = Permission.objects.filter(content_type__app_label="claims", codename__in=codenames).values("pk")
    by_group = User.groups.through.objects.filter(group__permissions__in=held).values("user_id")
    direct = User.user_permissions.through.objects.filter(permission__in=held).values("user_id")
    superusers = User.objects.filter(is_superuser=True).values("pk")
    holders = by_group.union(direct, superusers)
    return User.objects.filter(AnyOf(F("pk"), holders), is_active=True).only(*USER_FIELDS)


def claim_owners():
    """Seed 002: owners are users allowed to administer claims (MEMBERSHIP CLAIMS EDIT)."""
    return _users_with("change_membershipclaim")


def claim_submitters():
    """Who may have entered claims: the staff with a submit or edit right, never the whole user base (members)."""
    return _users_with("submit_primary_claim", "submit_nonprimary_claim", "change_membershipclaim")


def claims_due(user, today):
    """The user's open claims whose reply-by date is today or past, earliest first."""
    return (
        MembershipClaim.objects.filter(owner=user, reply_by__lte=today)
        .exclude(status=ClaimStatus.CLOSED)
        .select_related("membership__member", "claim_type")
        .order_by("reply_by", "id")
    )
