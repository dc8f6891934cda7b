"""Deterministic demo data: programs, members, tier histories, a year of activities, demo logins."""

import datetime as dt
import time

from django.db import transaction
from django.utils import timezone

from loyalty import plugins
from loyalty.demo import activities as demo_activities
from loyalty.demo.people import ACTIVITY_DAYS, DEMO_LOGINS, create_people, ensure_demo_users, member_number, plan_member
from loyalty.demo.programs import AIRLINE, HOTEL, RETAIL, ensure_programs
from loyalty.models import Activity, Location, Member, Membership

__all__ = ["DEMO_LOGINS", "seed_demo"]
CHUNK = 1000  # members per transaction: a killed run leaves whole chunks, and a re-run completes it


def seed_demo(*, members=200, if_empty=False, with_activities=True, skip=(), log=print, today=None):
    """Create whatever of the demo is missing; a second run finds everything and adds nothing.

    Every member is planned from its own seed, so the demo is the same on every
    machine (dates are relative to `today`) and `members=N` after a smaller run
    only adds the members that are missing. Then each app's demo step runs
    (loyalty.plugins.add_demo_step), except those named in `skip`.
    """
    started = time.perf_counter()
    summary = {"members_created": 0, "activities_posted": 0, "skipped": False}
    if if_empty and Member.objects.exists():
        log("Members already exist: demo data not loaded (--if-empty).")
        summary["skipped"] = True
        return summary
    anchor = (today or timezone.now().date()) - dt.timedelta(days=1)
    codes = [AIRLINE, HOTEL, RETAIL]
    programs = ensure_programs(codes)
    tiers = {code: {t.rank: t for t in program.tiers.all()} for code, program in programs.items()}
    locations = {
        (code, loc.code): loc for code, program in programs.items() for loc in Location.objects.filter(program=program)
    }
    post = with_activities

    for first in range(1, members + 1, CHUNK):
        indexes = range(first, min(first + CHUNK, members + 1))
        with transaction.atomic():
            created, posted = _seed_chunk(indexes, anchor, codes, programs, tiers, locations, post)
        summary["members_created"] += created
        summary["activities_posted"] += posted
        elapsed = time.perf_counter() - started
        log(f"  members {indexes[0]}–{indexes[-1]}: {created} created, {posted} activities posted ({elapsed:.1f} s)")

    ensure_demo_users()
    for step in plugins.DEMO_STEPS:
        if step.name not in skip:
            summary[step.name] = step.run(programs=programs, anchor=anchor, log=log)
    summary["seconds"] = round(time.perf_counter() - started, 1)
    log(
        f"Demo ready in {summary['seconds']} s: {summary['members_created']} members created, "
        f"{summary['activities_posted']} activities posted ({Member.objects.count()} members in total)."
    )
    return summary


def _seed_chunk(indexes, anchor, codes, programs, tiers, locations, post):
    plans = [plan_member(i, anchor, codes) for i in indexes]
    existing = set(
        Member.objects.filter(member_number__in=[member_number(i) for i in indexes]).values_list(
            "member_number", flat=True
        )
    )
    missing = [p for p in plans if member_number(p.index) not in existing]
    if missing:
        create_people(missing, programs, tiers)
    if not post:
        return len(missing), 0
    numbers = [m.number for p in plans for m in p.memberships]
    memberships = {m.membership_number: m for m in Membership.objects.filter(membership_number__in=numbers)}
    # A membership with any activity was posted before (posting is all-or-nothing per chunk).
    busy = set(
        Activity.objects.filter(membership__in=memberships.values())
        .order_by()
        .values_list("membership__membership_number", flat=True)
        .distinct()
    )
    planned = []
    for p in plans:
        # Activities continue the member's own random stream, so they do not depend on the chunk.
        for program_code, number, fields in demo_activities.plan_activities(p.rng, p, anchor, ACTIVITY_DAYS):
            if number in memberships and number not in busy:
                planned.append((program_code, number, fields))
    if not planned:
        return len(missing), 0
    requests = demo_activities.build_requests(planned, memberships, locations, programs)
    posted, refused = demo_activities.post_in_batches(requests)
    if refused:
        # The demo's rules cover every date it generates: a refusal is a bug worth stopping for.
        raise RuntimeError(f"{len(refused)} demo activities were refused, e.g.: {refused[0]}")
    return len(missing), posted
