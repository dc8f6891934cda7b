"""Duplicate delivery: every Celery task of the project, run twice with the same arguments, or by two workers at
once, has the effect of running it once. A new task without a scenario here fails the first test."""

import datetime as dt

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Sum
from django.utils import timezone

from claims.models import Stay
from loyalty.celery import app
from loyalty.models import Activity, IdempotencyKey, LedgerEntry, OutboxMessage
from retro.imports.services import start_import
from retro.imports.uploads import upload_path
from retro.models import FlightClaim, RetroClaim, RetroClaimKey, RetroImportBatch, RetroTransaction
from retro.services import submit_retro_claim
from tests.claims.factories import earning, hotel_program, membership_in, stay
from tests.concurrency import race
from tests.factories import UserFactory
from tests.retro.factories import RetroTransactionFactory, key_values_of, member_in, retro_program
from tests.retro.flights.factories import FlightFactory, airline, traveller
from tests.retro.import_helpers import csv_text, good_row, program_with_purchase_key


def state():
    """What a task may change, in the business's terms (run logs, which every run adds to, left out)."""
    return {
        "activities": Activity.objects.count(),
        "ledger": LedgerEntry.objects.aggregate(total=Sum("quantity"))["total"] or 0,
        "emails": len(mail.outbox),
        "retro claims": sorted(RetroClaim.objects.values_list("number", "status", "match_key")),
        "pool": RetroTransaction.objects.count(),
        "pool keys": sorted(RetroTransaction.objects.values_list("match_key", flat=True)),
        "flight emails": sorted(map(str, FlightClaim.objects.values_list("pk", "notifications_sent"))),
        "imports": sorted(RetroImportBatch.objects.values_list("pk", "state", "rows_imported", "rows_rejected")),
        "stays calculated": Stay.objects.filter(activity__isnull=False).count(),
        "outbox sent": sorted(OutboxMessage.objects.filter(sent_at__isnull=False).values_list("pk", "attempts")),
        "idempotency keys": IdempotencyKey.objects.count(),
    }


def _outstanding_claim_then_its_transaction():
    program = retro_program()
    values = key_values_of(RetroTransactionFactory.build(program=program, reference="LATE1"))
    claim = submit_retro_claim(membership=member_in(program), channel="csr", submitted_by=None, key_values=values)
    assert claim.status == "outstanding"
    RetroTransactionFactory(program=program, reference="LATE1")  # imported after the claim was made
    return ()


def _matched_claim_with_email():
    program = retro_program()
    txn = RetroTransactionFactory(program=program)
    claim = submit_retro_claim(membership=member_in(program, email="zoe@example.com"), channel="portal",
                               submitted_by=None, key_values=key_values_of(txn))  # fmt: skip
    mail.outbox.clear()
    RetroClaim.objects.filter(pk=claim.pk).update(notifications_sent=[])
    return claim


def _one_email():
    return (_matched_claim_with_email().pk, "matched")


def _emails_in_a_batch():
    return ([[_matched_claim_with_email().pk, "matched"]],)


def _approved_flight_claim():
    from retro.flights.decisions import approve_flight_claim
    from retro.flights.services import submit_flight_claim

    flight = FlightFactory(distance=800)
    membership = traveller(airline())
    membership.member.email = "ana@example.com"
    membership.member.save(update_fields=["email"])
    csr, supervisor = UserFactory(username="csr1", role="CSR"), UserFactory(username="sup1", role="Supervisor")
    [claim] = submit_flight_claim(membership=membership, ticket_number=flight.ticket_number,
                                  coupon_numbers=[flight.coupon_number], submitted_by=csr)  # fmt: skip
    approve_flight_claim(claim=claim, by=supervisor, reason="Boarding pass seen")
    FlightClaim.objects.filter(pk=claim.pk).update(notifications_sent=[])
    mail.outbox.clear()
    return (claim.pk,)


def _a_key_edited():
    program = retro_program()
    key = RetroClaimKey.objects.get(program=program)
    RetroTransactionFactory(program=program)
    RetroTransaction.objects.update(match_key="stale")
    return (key.pk, key.version)


def _an_uploaded_file():
    program = program_with_purchase_key()
    batch = start_import(program=program, channel="upload", file_name="pos.csv", rows_total=2)
    default_storage.save(upload_path(batch), ContentFile(csv_text([good_row(1), good_row(2)]).encode()))
    return (batch.pk,)


def _a_waiting_outbox_message():
    OutboxMessage.objects.create(task="loyalty.purge_idempotency_keys")
    return ()


def _old_idempotency_keys():
    user = UserFactory(username="partner1")
    for n in range(3):
        IdempotencyKey.objects.create(user=user, scope="test", key=f"k{n}", fingerprint="f")
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(days=3))
    return ()


def _a_checked_out_stay(settings):
    settings.STAY_CALCULATION_WORKERS = 1  # the parts are the other scenario
    program = hotel_program()
    earning(program)
    stay(program, membership=membership_in(program), departure=timezone.localdate() - dt.timedelta(days=10))
    return ()


def _a_balance_to_reconcile():
    program = retro_program()
    submit_retro_claim(membership=member_in(program), channel="csr", submitted_by=None,
                       key_values=key_values_of(RetroTransactionFactory(program=program)))  # fmt: skip
    return ()


# task name -> (set-up returning the task's arguments, what running it once changes)
SCENARIOS = {
    "retro.reprocess_retro_claims": (_outstanding_claim_then_its_transaction, {"activities": 1}),
    "retro.send_retro_claim_email": (_one_email, {"emails": 1}),
    "retro.send_retro_claim_emails": (_emails_in_a_batch, {"emails": 1}),
    "retro.send_flight_claim_email": (_approved_flight_claim, {"emails": 1}),
    "retro.recompute_retro_keys": (_a_key_edited, {"pool": 0}),
    "retro.import_uploaded_file": (_an_uploaded_file, {"pool": 2}),
    "loyalty.relay_outbox": (_a_waiting_outbox_message, {"outbox sent": 1}),
    "loyalty.purge_idempotency_keys": (_old_idempotency_keys, {"idempotency keys": -3}),
    "loyalty.reconcile": (_a_balance_to_reconcile, {"activities": 0}),
    "claims.calculate_stays": (_a_checked_out_stay, {"stays calculated": 1, "activities": 1}),
    "claims.calculate_stays_part": (_a_checked_out_stay, {"stays calculated": 1, "activities": 1}),
}


def _set_up(name, settings):
    set_up, expected = SCENARIOS[name]
    args = set_up(settings) if set_up is _a_checked_out_stay else set_up()
    return args, expected


def _changes(before, after, expected):
    """The expected counters' changes; for lists, how many more (or fewer) items."""
    changes = {}
    for field in expected:
        old, new = before[field], after[field]
        changes[field] = (len(new) - len(old)) if isinstance(new, list) else (new - old)
    return changes


def _check_work(name):
    """What a count cannot show: the key recomputation rewrote the stale keys."""
    if name == "retro.recompute_retro_keys":
        assert "stale" not in RetroTransaction.objects.values_list("match_key", flat=True)


def test_every_task_has_a_duplicate_delivery_scenario():
    ours = {name for name in app.tasks if not name.startswith(("celery.", "tests."))}  # tests' own tasks aside
    assert ours == set(SCENARIOS), f"tasks without a scenario: {sorted(ours - set(SCENARIOS))}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_task_delivered_twice_has_the_effect_of_once(name, roles, settings):
    args, expected = _set_up(name, settings)
    before = state()
    app.tasks[name](*args)
    once = state()
    assert _changes(before, once, expected) == expected
    _check_work(name)
    app.tasks[name](*args)
    assert state() == once


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_two_workers_running_a_task_at_once_have_the_effect_of_once(name, roles, settings):
    args, expected = _set_up(name, settings)
    before = state()
    results = race([lambda: app.tasks[name](*args)] * 2)
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    after = state()
    assert _changes(before, after, expected) == expected
    _check_work(name)
    app.tasks[name](*args)  # and once more, later: nothing changes
    assert state() == after
