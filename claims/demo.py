"""Claims demo: the hotel program's settings and adjustment codes, stays from the properties (through the
shared import, exceptions included), claims in every status with notes, a limited adjustment and an
adjustment file waiting for approval, and claims due today or overdue on the CSR's home page.
"""

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from claims import services
from claims.imports import ADJUSTMENTS, STAYS
from claims.models import (
    AdjustmentCode,
    ClaimOrigin,
    ClaimSettings,
    ClaimStatus,
    ClaimType,
    MembershipClaim,
    NoteActivityType,
    RecordType,
)
from claims.stays import calculate_due_stays
from loyalty.demo.people import SEED
from loyalty.demo.programs import HOTEL, HOTELS
from loyalty.models import ApprovalLimit, Location
from loyalty.selectors import active_memberships_of
from retro.imports.services import import_records, start_import

CODES = [
    # code, description, points, stays, nights, revenue
    ("GOODWILL", "Goodwill gesture", (-2000, 5000), (0, 0), (0, 0), (0, 0)),
    ("MISSING-STAY", "Missing stay credit", (0, 20000), (0, 2), (0, 14), (0, 3000)),
    ("CORRECTION", "Correction of a posting", (-20000, 20000), (-2, 2), (-14, 14), (-3000, 3000)),
]
NOTES = [
    ("REPLY", "Wrote to the member: we are checking with the property."),
    ("CALL-PROPERTY", "Called the front office; the folio shows the member's card was not attached at check-in."),
    ("CALLED-BACK", "Member called back to ask where the claim stands; told 5 business days."),
    ("REMARKS", "Waiting for the property's copy of the folio."),
]


def seed_claims(*, programs, anchor, log=print):
    program = programs[HOTEL]
    ClaimSettings.objects.get_or_create(program=program)
    for code, description, points, stays, nights, revenue in CODES:
        AdjustmentCode.objects.get_or_create(
            program=program, code=code,
            defaults=dict(description=description, lower_points=points[0], upper_points=points[1],
                          lower_stays=stays[0], upper_stays=stays[1], lower_nights=nights[0], upper_nights=nights[1],
                          lower_revenue=Decimal(revenue[0]), upper_revenue=Decimal(revenue[1])),
        )  # fmt: skip
    for role, top, daily in (("CSR", 2000, None), ("Supervisor", 20000, 100000)):
        ApprovalLimit.objects.get_or_create(
            program=program, lifecycle="membership_claim", role=Group.objects.get(name=role),
            defaults={"max_value": top, "daily_max": daily},
        )  # fmt: skip
    if MembershipClaim.objects.filter(program=program).exists():
        return {"membership_claims": 0}
    users = {u.username: u for u in User.objects.filter(username__in=["csr", "supervisor", "admin"])}
    memberships = list(active_memberships_of(program)[:40])
    if not memberships or len(users) < 3:
        return {"membership_claims": 0}
    rng = random.Random(SEED + 2)
    stays = _import_stays(program, memberships, anchor, rng, users["supervisor"])
    calculated = calculate_due_stays()
    with transaction.atomic():
        claims = _claims(program, memberships, anchor, rng, users)
    _adjustment_file(program, memberships, users["supervisor"])
    log(f"  membership claims: {claims} claims, {stays} stays imported ({calculated})")
    return {"membership_claims": claims, "stays": stays}


def _stay_rows(memberships, anchor, rng):
    hotels = [code for code, *_ in HOTELS]
    rates = {code: rate for code, _, _, _, rate in HOTELS}
    rows = []
    for n, membership in enumerate(memberships[:30]):
        for k in range(3):
            code = rng.choice(hotels)
            departure = anchor - dt.timedelta(days=rng.randint(1, 200))
            nights = rng.randint(1, 5)
            status = "CHECKED OUT" if k or n % 7 else rng.choice(["NO SHOW", "CANCELLED", "IN HOUSE"])
            card = membership.membership_number
            member_number = membership.member.member_number
            if n % 9 == 4 and k == 0:
                card = ""  # the guest gave no card: an exception until a CSR attaches it
            if n % 11 == 5 and k == 1:
                card = memberships[(n + 1) % len(memberships)].membership_number  # another member's card
            rows.append({
                "property_code": code, "property_reservation_number": f"{code[:3]}{700000 + n * 10 + k}",
                "central_reservation_number": f"MR{90000000 + n * 10 + k}", "guest_name": membership.member.full_name,
                "arrival_date": (departure - dt.timedelta(days=nights)).isoformat(),
                "departure_date": departure.isoformat(), "status": status,
                "room_revenue": str(Decimal(rates[code] * nights) * Decimal("1.05")), "currency": "EUR",
                "membership_number": card, "member_number": member_number,
            })  # fmt: skip
    return rows


def _import_stays(program, memberships, anchor, rng, supervisor):
    rows = _stay_rows(memberships, anchor, rng)
    batch = start_import(program=program, channel="command", file_name="demo-stays.csv", started_by=supervisor,
                         rows_total=len(rows), kind=STAYS)  # fmt: skip
    import_records(batch=batch, records=((i, row, row) for i, row in enumerate(rows, start=2)))
    return batch.rows_imported


def _claims(program, memberships, anchor, rng, users):
    types = {t.code: t for t in ClaimType.objects.all()}
    origins = list(ClaimOrigin.objects.all())
    activity_types = {t.code: t for t in NoteActivityType.objects.all()}
    hotels = list(Location.objects.filter(program=program, kind=Location.Kind.HOTEL))
    today = timezone.localdate()
    csr, supervisor = users["csr"], users["supervisor"]
    count = 0
    plan = [ClaimStatus.OPEN, ClaimStatus.PENDING, ClaimStatus.REVIEW, ClaimStatus.WAIT_CALLER, ClaimStatus.CLOSED]
    for n, membership in enumerate(memberships[:25]):
        # Claims are entered today, so their stays fall in today's claim window whatever the demo's anchor.
        departure = today - dt.timedelta(days=rng.randint(12, 150))
        nights = rng.randint(1, 4)
        hotel = rng.choice(hotels)
        stay_claim = n % 5 != 3
        values = {
            "caller_name": membership.member.full_name if n % 4 else f"{rng.choice(['Paul', 'Anne'])} (assistant)",
            "origin": rng.choice(origins), "owner": csr if n % 3 else supervisor,
            "claim_type": types["STAY"] if stay_claim else types["NEWCARD"],
            "record_type": RecordType.STAY if stay_claim else RecordType.OTHER,
            "hotel": hotel if stay_claim else None,
            "property_reservation_number": f"{hotel.code[:3]}{600000 + n}" if stay_claim else "",
            "central_reservation_number": f"MR{80000000 + n}" if stay_claim else "",
            "arrival_date": departure - dt.timedelta(days=nights) if stay_claim else None,
            "departure_date": departure if stay_claim else None,
            "caller_information": "Member says the stay is missing from the statement." if stay_claim
            else "Card lost at the airport; asks for a new one.",
            # A few due today or overdue, for the CSR's home page.
            "reply_by": today + dt.timedelta(days=(n % 6) - 2) if n % 2 == 0 else None,
            "comments": "",
        }  # fmt: skip
        claim = services.open_claim(membership=membership, by=csr if n % 2 else supervisor, values=values)
        for code, text in NOTES[: 1 + n % len(NOTES)]:
            services.add_note(claim=claim, by=csr, activity_type=activity_types.get(code), text=text)
        status = plan[n % len(plan)]
        if status != ClaimStatus.OPEN:
            services.update_claim(claim=claim, by=supervisor, values={}, status=status,
                                  note="Resolved: credited by the property's corrected feed."
                                  if status == ClaimStatus.CLOSED else "")  # fmt: skip
        count += 1
    # A limited adjustment the CSR entered, waiting for a supervisor's approval.
    goodwill = AdjustmentCode.objects.get(program=program, code="GOODWILL")
    services.open_claim(
        membership=memberships[0], by=csr,
        values={"caller_name": memberships[0].member.full_name, "claim_type": types["GOODWILL"],
                "record_type": RecordType.LIMITED_ADJUSTMENT, "adjustment_code": goodwill, "base_points": 0,
                "bonus_points": 1500, "misc_points": 0, "owner": supervisor,
                "caller_information": "Room not ready at check-in; the manager promised 1,500 points."},
    )  # fmt: skip
    return count + 1


def _adjustment_file(program, memberships, supervisor):
    rows = [
        {"membership_number": m.membership_number, "adjustment_code": "GOODWILL", "bonus_points": "500",
         "reason": "Spa closed during the stay"}
        for m in memberships[5:15]
    ] + [{"membership_number": memberships[0].membership_number, "adjustment_code": "GOODWILL",
          "bonus_points": "9000", "reason": "Above the code's threshold: refused"}]  # fmt: skip
    batch = start_import(program=program, channel="command", file_name="demo-goodwill.csv", started_by=supervisor,
                         rows_total=len(rows), kind=ADJUSTMENTS)  # fmt: skip
    import_records(batch=batch, records=((i, row, row) for i, row in enumerate(rows, start=2)))
