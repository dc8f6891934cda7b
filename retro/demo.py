"""Retro demo: claim keys and settings per program, a pool of anonymous transactions, claims in every status."""

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from loyalty.demo.people import SEED, membership_number
from loyalty.demo.programs import AIRLINE, AIRPORTS, HOTEL, HOTELS, HUBS, RETAIL, STORES, flight_miles
from loyalty.selectors import membership_by_number
from retro.imports.services import import_records, start_import
from retro.models import (
    RetroClaim,
    RetroClaimKey,
    RetroClaimKeyField,
    RetroClaimStatus,
    RetroSettings,
    RetroTransaction,
)
from retro.notifications import OUTCOMES
from retro.services import reverse_retro_claim, submit_retro_claim

SOURCE_PREFIX = "DEMO-"
NOTIFY_SWITCHES = [switch for switch, _ in OUTCOMES.values()]
# Per program: transaction type, key fields in order, pool size, settings.
CONFIG = {
    RETAIL: dict(
        transaction_type="purchase",
        key=["location_code", "transaction_date", "reference", "amount"],
        pool=240,
        settings=dict(
            submission_limit_count=5,
            submission_limit_days=30,
            max_transaction_age_days=180,
            transaction_lifetime_days=365,
        ),
    ),
    HOTEL: dict(
        transaction_type="stay",
        key=["location_code", "transaction_date", "reference", "amount"],
        pool=120,
        settings=dict(
            max_transaction_age_days=365,
            transaction_lifetime_days=400,
            enrolment_buffer_days=30,
            approval_required=True,
            auto_approve_max_points=8000,
        ),
    ),
    AIRLINE: dict(
        transaction_type="flight",
        key=["reference", "transaction_date"],
        pool=140,
        # Seed 001: with reprocessing off the first attempt is the only one.
        settings=dict(max_transaction_age_days=270, transaction_lifetime_days=365, reprocessing_enabled=False),
    ),
}


def seed_retro(*, programs, anchor, log=print):
    """Keys, settings, pool and claims; each part is skipped when it is already there."""
    summary = {"transactions": 0, "claims": 0}
    pools = {}
    for code, config in CONFIG.items():
        program = programs[code]
        _ensure_key(program, config)
        _ensure_settings(program, config["settings"])
        pools[code] = _pool_rows(code, program, config, anchor)
        summary["transactions"] += _import_pool(program, pools[code])
    # Demo members' outcome e-mails are not sent (the worker's console would drown the demo logins):
    # the programs' e-mail switches are off while the demo submits, and back as they were after.
    # All claims or none, so a re-run after a failure submits the whole set.
    with transaction.atomic():
        settings = RetroSettings.objects.filter(program__in=programs.values())
        switches = {row["pk"]: row for row in settings.values("pk", *NOTIFY_SWITCHES)}
        settings.update(**dict.fromkeys(NOTIFY_SWITCHES, False))
        summary["claims"] = _submit_claims(programs, pools)
        for pk, row in switches.items():
            RetroSettings.objects.filter(pk=pk).update(**{name: row[name] for name in NOTIFY_SWITCHES})
    log(f"  retro: {summary['transactions']} pool transactions imported, {summary['claims']} claims submitted")
    return summary


def _ensure_key(program, config):
    key, created = RetroClaimKey.objects.get_or_create(program=program, transaction_type=config["transaction_type"])
    if created:
        RetroClaimKeyField.objects.bulk_create(
            RetroClaimKeyField(key=key, position=position, field=name)
            for position, name in enumerate(config["key"], start=1)
        )


def _ensure_settings(program, values):
    RetroSettings.objects.get_or_create(program=program, defaults=values)


def _pool_rows(code, program, config, anchor):
    """CSV-like rows as a point-of-sale, property-management or departure-control feed would send them."""
    rng = random.Random(f"{SEED}-retro-{code}")
    rows = []
    for n in range(1, config["pool"] + 1):
        day = anchor - dt.timedelta(days=rng.randrange(2, 150))
        row = {
            "source_id": f"{SOURCE_PREFIX}{code.upper()}-{n:05d}",
            "transaction_type": config["transaction_type"],
            "transaction_date": day.isoformat(),
            "transaction_time": f"{rng.randint(8, 21):02d}:{rng.choice(['05', '20', '35', '50'])}",
        }
        if code == RETAIL:
            store = rng.choice(STORES)[0]
            amount = Decimal(str(min(rng.lognormvariate(3.6, 0.7), 900))).quantize(Decimal("0.01"))
            row.update(
                location_code=store,
                reference=f"{store}-{rng.randrange(10**6):06d}",
                amount=f"{amount:.2f}",
                currency="CAD",
                register_id=f"R{rng.randint(1, 8)}",
            )
        elif code == HOTEL:
            hotel, _, _, _, rate = rng.choice(HOTELS)
            nights = rng.choice([1, 1, 2, 2, 3, 4, 6])
            amount = (Decimal(rate) * nights * Decimal(str(rng.uniform(0.85, 1.3)))).quantize(Decimal("0.01"))
            row.update(
                location_code=hotel,
                reference=f"F{rng.randrange(10**7):07d}",
                amount=f"{amount:.2f}",
                currency="EUR",
                attr_nights=str(nights),
            )
        else:
            origin = rng.choice(HUBS)
            destination = rng.choice([c for c in AIRPORTS if c != origin])
            cabin, booking_class = rng.choice(
                [("economy", "Y"), ("economy", "M"), ("economy", "Q"), ("business", "J"), ("premium", "W")]
            )
            row.update(
                location_code=origin,
                reference=f"016{rng.randrange(10**10):010d}",
                currency="USD",
                attr_flight_number=f"SW {rng.randint(100, 2999)}",
                attr_origin=origin,
                attr_destination=destination,
                attr_distance=str(flight_miles(origin, destination)),
                attr_cabin=cabin,
                attr_booking_class=booking_class,
            )
        rows.append(row)
    if code == AIRLINE:
        # A feed row with a garbled distance: claiming it shows Transaction Failed and its reason.
        rows[-1]["attr_distance"] = "n/a"
    return rows


def _import_pool(program, rows):
    if RetroTransaction.objects.filter(program=program, source_id=rows[0]["source_id"]).exists():
        return 0
    batch = start_import(program=program, channel="command", file_name="demo feed", rows_total=len(rows))
    batch = import_records(batch=batch, records=((n, row, row) for n, row in enumerate(rows, start=2)))
    return batch.rows_imported


def _claim_values(code, row):
    if code == AIRLINE:
        return {"reference": row["reference"], "transaction_date": row["transaction_date"]}
    return {k: row[k] for k in ("location_code", "transaction_date", "reference", "amount")}


def _submit_claims(programs, pools):
    """A handful of claims per program by the first demo members, so every status appears on the screens."""
    if RetroClaim.objects.filter(program__in=programs.values()).exists():
        return 0
    csr = User.objects.filter(username="csr").first()
    supervisor = User.objects.filter(username="supervisor").first()
    portal_user = User.objects.filter(username="member").first()
    submitted = 0

    def submit(code, index, values, channel="csr"):
        nonlocal submitted
        by = portal_user if channel == "portal" else csr
        membership = membership_by_number(membership_number(code, index))
        if membership is None:
            return None  # a tiny demo (--members 3) has fewer claimants
        try:
            claim = submit_retro_claim(
                membership=membership,
                channel=channel,
                submitted_by=by,
                key_values=values,
                transaction_type=CONFIG[code]["transaction_type"],
            )
        except ValidationError:
            return None  # a settings refusal (e.g. a limit) is a valid outcome, not a demo failure
        submitted += 1
        return claim

    for code in (RETAIL, HOTEL, AIRLINE):
        rows = pools[code]
        # Matched (portal and CSR), then Already Claimed by someone else for the same receipt.
        submit(code, 1, _claim_values(code, rows[0]), channel="portal")
        second = submit(code, 2, _claim_values(code, rows[1]))
        submit(code, 3, _claim_values(code, rows[0]))
        # Nothing in the pool (yet): Outstanding, or Not Matched where reprocessing is off.
        missing = dict(_claim_values(code, rows[2]), reference=f"{rows[2]['reference']}9")
        submit(code, 4, missing)
        # The airline's garbled row: Transaction Failed with the reason.
        submit(code, 5, _claim_values(code, rows[-1]))
        if code == HOTEL:
            # Approval required above 8,000 points: the largest stays wait for a supervisor.
            for index, row in zip((6, 7), sorted(rows[3:], key=lambda r: -Decimal(r["amount"]))[:2], strict=True):
                submit(code, index, _claim_values(code, row))
        if code == RETAIL and second is not None and second.status == RetroClaimStatus.MATCHED and supervisor:
            # Reversed: the points go back and the receipt returns to the pool.
            reverse_retro_claim(claim=second, by=supervisor, reason="Receipt belonged to another customer (demo).")
    return submitted
