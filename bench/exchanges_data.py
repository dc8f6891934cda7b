"""bench_exchanges.py's data: partner clients with tokens, memberships with points, and captured redemptions as
the booking engines' authorize and capture calls leave them, made in bulk; and the work each user is given."""

import datetime as dt
import os
import time

USERS = int(os.environ.get("BENCH_EXCHANGES_USERS", "6"))
REDEMPTIONS = int(os.environ.get("BENCH_EXCHANGES_REDEMPTIONS", "25000"))
BATCH = 1000  # redemptions made a transaction
TICKETS = (("0570000000001", 6_000), ("0570000000002", 4_000))


def execute(sql, args=None):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, args)


def make_data():
    """Program, partners with tokens, memberships with points, REDEMPTIONS captured redemptions."""
    from django.contrib.auth.models import User
    from django.db import transaction

    from exchanges.models import PartnerClient, Redemption
    from loyalty import services as loyalty_services
    from loyalty.api_tokens import issue_token
    from loyalty.models import Activity, Membership, Program

    started = time.perf_counter()
    program = Program.objects.create(code="bx", name="Bench Miles", kind="airline", currency_name="Miles",
                                     time_zone="Europe/Paris")  # fmt: skip
    partners = []
    for n in range(USERS):
        user = User.objects.create(username=f"booking-engine-{n:02d}")
        partner = PartnerClient.objects.create(name=user.username, user=user)
        partner.programs.set([program])
        partners.append((partner, issue_token(user)[1]))
    execute(
        """INSERT INTO loyalty_member (member_number, first_name, last_name, email, phone, enrolled_on, status,
                                       search_name)
           SELECT 'BX' || lpad(g::text, 9, '0'), 'Bench', 'Flyer' || g, '', '', date '2020-01-01', 'active',
                  'bench flyer' || g
           FROM generate_series(1, %s) g""",
        [REDEMPTIONS],
    )
    execute(
        """INSERT INTO loyalty_membership (member_id, program_id, membership_number, membership_type, card_level,
                                           joined_on)
           SELECT m.id, %s, 'BXM' || substr(m.member_number, 3), 'Individual', '', date '2020-01-01'
           FROM loyalty_member m WHERE m.member_number LIKE 'BX%%'""",
        [program.pk],
    )
    memberships = list(Membership.objects.filter(program=program).order_by("pk"))
    for membership in memberships:
        membership.program = program
    points = sum(p for _, p in TICKETS)
    for start in range(0, len(memberships), 1000):
        loyalty_services.post_activities(requests=[
            loyalty_services.ActivityRequest(
                membership=m, kind=Activity.Kind.ADJUSTMENT, source="bench", occurred_on=dt.date(2026, 1, 1),
                external_reference=f"opening:{m.pk}", description="Opening balance", entries={"base": 2 * points},
            )
            for m in memberships[start:start + 1000]
        ])  # fmt: skip
    data_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for start in range(0, len(memberships), BATCH):
        with transaction.atomic():
            captured_in_bulk(program, partners, memberships[start : start + BATCH], start)
    # The keys the booking engines' authorize and capture calls left (kept 48 hours): the key reads and locks
    # of the run look among them, as in production, not in an empty table.
    execute(
        """INSERT INTO loyalty_idempotencykey (user_id, scope, key, fingerprint, response_status, response_body,
                                               created_at)
           SELECT p.user_id, 'exchanges.' || o.kind, o.idempotency_key, md5(o.idempotency_key) || md5(o.kind),
                  CASE o.kind WHEN 'authorize' THEN 201 ELSE 200 END, jsonb_build_object('id', o.redemption_id),
                  o.created_at
           FROM exchanges_pointsoperation o JOIN exchanges_partnerclient p ON p.id = o.partner_id
           WHERE o.kind IN ('authorize', 'capture')"""
    )
    captured = Redemption.objects.filter(program=program, status="captured").count()
    redemptions_seconds = time.perf_counter() - started
    execute("CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, user_id integer NOT NULL, "
            "created_at timestamptz NOT NULL DEFAULT now())")  # fmt: skip
    # Every table, not only those the refunds write: autovacuum would otherwise visit the members and memberships
    # just loaded during the first phase (the floor's), and take its CPU.
    execute("VACUUM ANALYZE")
    execute("CHECKPOINT")
    print(f"- data: {USERS} partner clients, {len(memberships):,} memberships with {2 * points:,} points each in "
          f"{data_seconds:.0f} s; {captured:,} captured redemptions (2 tickets, {points:,} points each) as "
          f"exchanges.services authorize + capture leave them, with the API's idempotency keys of both calls, "
          f"made in bulk in {redemptions_seconds:.0f} s",
          flush=True)  # fmt: skip
    return program, partners


def captured_in_bulk(program, partners, memberships, first):
    """What exchanges.services.authorize then capture leave, for many bookings at once: the redemptions (held,
    then captured through the lifecycle's bulk_transition, with their log rows), their tickets, the authorize
    and capture operations, and each capture's redemption activity posted through loyalty.services."""
    from django.utils import timezone

    from exchanges import services
    from exchanges.models import PointsOperation, Redemption, RedemptionTicket
    from loyalty import services as loyalty_services
    from loyalty.lifecycle import bulk_transition
    from loyalty.models import Activity

    now = timezone.now()
    points = sum(p for _, p in TICKETS)
    redemptions = Redemption.objects.bulk_create(
        Redemption(program=program, partner=partners[n % USERS][0], pnr=f"BX{n:06d}", membership=membership,
                   currency="EUR", cash_amount=0, points_held=points, created_at=now,
                   hold_expires_at=now + dt.timedelta(minutes=partners[n % USERS][0].hold_minutes))
        for n, membership in enumerate(memberships, start=first)
    )  # fmt: skip
    RedemptionTicket.objects.bulk_create(
        RedemptionTicket(redemption=r, ticket_number=number, points=p) for r in redemptions for number, p in TICKETS
    )
    day = program.local_date(now)
    activities = loyalty_services.post_activities(requests=[
        loyalty_services.ActivityRequest(
            membership=r.membership, kind=Activity.Kind.REDEMPTION, source=services.SOURCE, occurred_on=day,
            external_reference=f"redemption:{r.pk}", amount=r.cash_amount, currency=r.currency,
            caused_by=r.partner.user, description=f"Booking {r.pnr} paid with points",
            entries={services.BUCKET: -points},
        )
        for r in redemptions
    ])  # fmt: skip
    assert all(isinstance(a, Activity) and a.just_posted for a in activities), activities[:3]
    for partner, _ in partners:
        mine = [(r, a) for r, a in zip(redemptions, activities, strict=True) if r.partner_id == partner.pk]
        changed = bulk_transition([r.pk for r, _ in mine], "capture", by=partner.user, model=Redemption, row_values={
            "points_captured": {r.pk: points for r, _ in mine}, "captured_at": {r.pk: now for r, _ in mine},
            "capture_activity": {r.pk: a.pk for r, a in mine},
        })  # fmt: skip
        assert len(changed) == len(mine), (len(changed), len(mine))
    PointsOperation.objects.bulk_create(
        PointsOperation(redemption=r, partner_id=r.partner_id, kind=kind, points=points, cash_amount=cash,
                        tickets={}, activity=activity, idempotency_key=f"{kind}-{r.pk}", created_at=now,
                        created_by=r.partner.user)
        for r, a in zip(redemptions, activities, strict=True)
        for kind, cash, activity in ((PointsOperation.Kind.AUTHORIZE, r.cash_amount, None),
                                     (PointsOperation.Kind.CAPTURE, None, a))
    )  # fmt: skip


def refundable_work(program, partners):
    """Per partner: its captured redemptions, in order, each with the key of its first refund."""
    from exchanges.models import Redemption

    work = {partner.pk: [] for partner, _ in partners}
    rows = (Redemption.objects.filter(program=program, status="captured").order_by("pk")
            .values_list("pk", "partner_id", "membership__membership_number"))  # fmt: skip
    for pk, partner_id, number in rows:
        work[partner_id].append([pk, number, f"refund-{pk}"])
    return work


def done_refunds(program, partners):
    """Per partner: the refunds done, each with its key, as the replays send them again."""
    from exchanges.models import PointsOperation

    work = {partner.pk: [] for partner, _ in partners}
    rows = (PointsOperation.objects.filter(redemption__program=program, kind="refund").order_by("pk")
            .values_list("redemption_id", "partner_id", "redemption__membership__membership_number",
                         "idempotency_key"))  # fmt: skip
    for pk, partner_id, number, key in rows:
        work[partner_id].append([pk, number, key])
    return work
