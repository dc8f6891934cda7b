"""Demo members, memberships and tier histories, planned from a per-member seed and bulk-inserted."""

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth.models import Group, User

from loyalty import roles
from loyalty.demo.people_data import CURATED, MEMBERSHIP_TYPES, person
from loyalty.demo.programs import JOIN_PROBABILITY, MEMBERSHIP_PREFIX, TIER_WEIGHTS, TIERS
from loyalty.models import Member, Membership, TierPeriod, normalise_search_text

SEED = 20251
FIRST_MEMBER_NUMBER = 100_000_000
ACTIVITY_DAYS = 365

# (username, password, group, staff and superuser) — printed by the command, documented in README.md.
DEMO_LOGINS = [
    ("csr", "csr-demo-pass", roles.CSR, False),
    ("supervisor", "supervisor-demo-pass", roles.SUPERVISOR, False),
    ("admin", "admin-demo-pass", roles.ADMIN, True),
    ("member", "member-demo-pass", roles.MEMBER, False),
]
DEMO_USER_NAMES = {"csr": ("Casey", "Tremblay"), "supervisor": ("Sam", "Côté"), "admin": ("Ada", "Admin")}


def member_number(index):
    return str(FIRST_MEMBER_NUMBER + index)


def membership_number(program_code, index):
    # Multiplying by a number prime to 10**9 is a bijection: unique, yet not sequential-looking.
    body = f"{(index * 7919 + 104_729) % 10**9:09d}"
    return f"{MEMBERSHIP_PREFIX[program_code]}{body}{_luhn_digit(body)}"


def _luhn_digit(digits):
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


@dataclass
class MembershipPlan:
    program_code: str
    number: str
    membership_type: str
    joined_on: dt.date
    tier_changes: list  # [(tier rank, from date)], the first from joined_on
    card_level: str = ""


@dataclass
class MemberPlan:
    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    enrolled_on: dt.date
    status: str
    memberships: list = field(default_factory=list)
    rng: random.Random = None


def plan_member(index, anchor, program_codes):
    """Everything about demo member `index`, decided by its own seeded generator (stable for any N)."""
    rng = random.Random(SEED * 1_000_003 + index)
    first, last, email, phone = person(rng, index)
    curated = index <= len(CURATED)
    enrolled_on = anchor - dt.timedelta(days=int(rng.triangular(60, 14 * 365, 2 * 365)))
    if curated:  # long-standing members, so their histories show several years and upgrades
        enrolled_on = anchor - dt.timedelta(days=3 * 365 + 37 * index)
    status = Member.Status.ACTIVE
    if not curated:
        status = rng.choices(list(Member.Status), weights=[97, 2, 1])[0]
    plan = MemberPlan(index, first, last, email, phone, enrolled_on, status, rng=rng)
    codes = [c for c in program_codes if curated or rng.random() < JOIN_PROBABILITY[c]] or [rng.choice(program_codes)]
    for code in codes:
        joined_on = min(enrolled_on + dt.timedelta(days=rng.randrange(0, 400)), anchor - dt.timedelta(days=45))
        tier_changes = _tier_history(rng, code, joined_on, anchor, featured=index == 1)
        plan.memberships.append(
            MembershipPlan(
                program_code=code,
                number=membership_number(code, index),
                membership_type=rng.choice(MEMBERSHIP_TYPES),
                joined_on=joined_on,
                tier_changes=tier_changes,
                card_level=TIERS[code][tier_changes[-1][0] - 1],
            )
        )
    return plan


def _tier_history(rng, program_code, joined_on, anchor, featured=False):
    """Upgrades only, most within the last three years, so recent activities straddle tier changes."""
    count = len(TIERS[program_code])
    final_rank = 3 if featured else rng.choices(range(1, count + 1), weights=TIER_WEIGHTS[count])[0]
    earliest = max(joined_on + dt.timedelta(days=30), anchor - dt.timedelta(days=3 * 365))
    span = (anchor - dt.timedelta(days=1) - earliest).days
    if featured:
        # The portal member: Silver most of the year, Gold for the last 100 days (seed 003's story).
        silver_from = max(earliest, anchor - dt.timedelta(days=400))
        return [(1, joined_on), (2, silver_from), (3, anchor - dt.timedelta(days=100))]
    final_rank = min(final_rank, span + 1) if span > 0 else 1
    offsets = sorted(rng.sample(range(span), final_rank - 1)) if final_rank > 1 else []
    return [(1, joined_on)] + [(rank, earliest + dt.timedelta(days=o)) for rank, o in enumerate(offsets, start=2)]


def create_people(plans, programs, tiers_by_program):
    """Bulk-insert members, memberships and tier periods; returns {(index, program code): Membership}."""
    members = Member.objects.bulk_create(
        [
            Member(
                member_number=member_number(p.index),
                first_name=p.first_name,
                last_name=p.last_name,
                # bulk_create skips Member.save(), which normally fills the search column.
                search_name=normalise_search_text(f"{p.first_name} {p.last_name}"),
                email=p.email,
                phone=p.phone,
                enrolled_on=p.enrolled_on,
                status=p.status,
            )
            for p in plans
        ]
    )
    rows, keys = [], []
    for member, p in zip(members, plans, strict=True):
        for m in p.memberships:
            rows.append(
                Membership(
                    member=member,
                    program=programs[m.program_code],
                    membership_number=m.number,
                    membership_type=m.membership_type,
                    card_level=m.card_level,
                    joined_on=m.joined_on,
                )
            )
            keys.append((p.index, m.program_code, m))
    memberships = Membership.objects.bulk_create(rows)
    periods, created = [], {}
    for membership, (index, code, m) in zip(memberships, keys, strict=True):
        created[(index, code)] = membership
        tiers = tiers_by_program[code]
        for position, (rank, valid_from) in enumerate(m.tier_changes):
            is_last = position == len(m.tier_changes) - 1
            valid_to = None if is_last else m.tier_changes[position + 1][1] - dt.timedelta(days=1)
            reason = "Enrolment" if position == 0 else f"Upgrade to {tiers[rank].name}: qualification reached"
            periods.append(
                TierPeriod(
                    membership=membership, tier=tiers[rank], valid_from=valid_from, valid_to=valid_to, reason=reason
                )
            )
    TierPeriod.objects.bulk_create(periods)
    return created


def ensure_demo_users():
    """The four demo logins; an existing user is left untouched (its password may have been changed)."""
    users = {}
    for username, password, group_name, is_admin in DEMO_LOGINS:
        first, last = DEMO_USER_NAMES.get(username, ("", ""))
        user, created = User.objects.get_or_create(
            username=username,
            defaults=dict(
                first_name=first,
                last_name=last,
                email=f"{username}@example.com",
                is_staff=is_admin,
                is_superuser=is_admin,
            ),
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group_name))
        users[username] = user
    # The portal login belongs to the first curated member (Zoë Lefèvre-Martin).
    member = Member.objects.filter(member_number=member_number(1)).first()
    if member is not None and member.user_id is None and not Member.objects.filter(user=users["member"]).exists():
        member.user = users["member"]
        member.save(update_fields=["user"])
        users["member"].first_name, users["member"].last_name = member.first_name, member.last_name
        users["member"].email = member.email
        users["member"].save(update_fields=["first_name", "last_name", "email"])
    return users
