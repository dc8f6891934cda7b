"""The single retro matching service: one claim against the pool, used at submission and by reprocessing."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from loyalty.models import Activity, Location
from retro.models import RetroClaim, RetroClaimStatus, RetroTransaction
from retro.notifications import queue_outcome_email

S = RetroClaimStatus
ALREADY_CLAIMED_REASON = "Every retro transaction matching this claim has already been claimed."
NOT_MATCHED_REASON = "No retro transaction matched this claim while it was eligible."
NO_REPROCESSING_REASON = "No retro transaction matched, and reprocessing is off: the first attempt is the only one."
# Races lost to other claims before giving up on this pass (each loss means another candidate was taken).
MAX_RESERVE_ATTEMPTS = 20
TERMINAL = {S.MATCHED, S.TRANSACTION_FAILED, S.ALREADY_CLAIMED, S.NOT_MATCHED, S.REVERSED}


def program_today(program):
    return program.local_date(timezone.now())


def candidate_transactions(claim, today):
    """Unexpired pool transactions with the claim's key, minus any this member had reversed before."""
    reversed_for_member = RetroClaim.objects.filter(
        membership_id=claim.membership_id, status=S.REVERSED, matched_transaction_id=OuterRef("pk")
    )
    return RetroTransaction.objects.filter(
        program_id=claim.program_id,
        transaction_type=claim.transaction_type,
        match_key=claim.match_key,
        expires_on__gte=today,
    ).exclude(Exists(reversed_for_member))


def reserve_oldest_transaction(claim, candidates):
    """Take the oldest unclaimed candidate for the claim, or None. The database decides any race.

    SKIP LOCKED passes over rows another claim is taking right now; the conditional
    UPDATE plus the claimed_by one-to-one constraint make the database the final word.
    """
    for _ in range(MAX_RESERVE_ATTEMPTS):
        txn = (
            candidates.filter(claimed_by__isnull=True)
            .order_by("occurred_at", "id")
            .select_for_update(skip_locked=True)
            .first()
        )
        if txn is None:
            return None
        try:
            with transaction.atomic():
                taken = RetroTransaction.objects.filter(pk=txn.pk, claimed_by__isnull=True).update(claimed_by=claim)
        except IntegrityError:
            # The claim already holds a transaction (another pass got there first): nothing more to take.
            return None
        if taken:
            txn.claimed_by = claim
            return txn
    return None


def release_transaction(claim, txn):
    """Put the transaction back in the pool (only if this claim holds it)."""
    RetroTransaction.objects.filter(pk=txn.pk, claimed_by_id=claim.pk).update(claimed_by=None)


def activity_fields(claim, txn, by=None, location=None):
    """The loyalty.services.post_activity arguments for a matched claim: dated on the transaction's own date."""
    kind = claim.transaction_type if claim.transaction_type in Activity.Kind.values else Activity.Kind.PURCHASE
    return {
        "membership": claim.membership,
        "kind": kind,
        "occurred_on": txn.occurred_on,
        "occurred_at": txn.occurred_at,
        "source": "retro",
        "external_reference": claim.number,
        "amount": txn.amount,
        "currency": txn.currency,
        "location": location,
        "attributes": dict(txn.attributes or {}),
        "caused_by": by,
        "description": f"Retro claim {claim.number}",
    }


def transaction_location(txn):
    if not txn.location_code:
        return None
    return Location.objects.filter(program_id=txn.program_id, code=txn.location_code).first()


def estimate_points(claim, txn):
    """Points the transaction earns on its own date (rules and tier then); raises when it cannot be valued."""
    from loyalty import valuation

    valued = valuation.value_activity(
        membership=claim.membership,
        kind=activity_fields(claim, txn)["kind"],
        occurred_on=txn.occurred_on,
        amount=txn.amount,
        attributes=dict(txn.attributes or {}),
        location=transaction_location(txn),
    )
    return valued.points


def needs_approval(claim, txn, retro_settings):
    """Approval required, unless the points are within the auto-approve cap.

    A transaction that cannot be valued (no rule set in force) skips the queue:
    posting fails at once and the CSR sees why, instead of a supervisor later.
    """
    if not retro_settings.approval_required:
        return False
    try:
        claim.estimated_points = estimate_points(claim, txn)
    except ValidationError:
        return False
    cap = retro_settings.auto_approve_max_points
    return cap is None or claim.estimated_points > cap


def post_claim_activity(*, claim, txn, by=None, approving=False, note=""):
    """Post the activity through loyalty.services; a refusal makes the claim Transaction Failed, never raises."""
    from loyalty import services as loyalty_services

    try:
        # post_activity is atomic and refuses (NoRuleSetInForce, bad input) before writing anything.
        activity = loyalty_services.post_activity(**activity_fields(claim, txn, by, transaction_location(txn)))
    except ValidationError as exc:
        fail_claim(claim=claim, txn=txn, by=by, reason=" ".join(exc.messages))
        return
    claim.activity = activity
    description = f"Matched transaction {txn.source_id} ({txn.occurred_on.isoformat()}). {note}".strip()
    if approving:
        claim.approve(by=by, description=description)
    else:
        claim.mark_matched(by=by, description=description)
    claim.resolved_at = timezone.now()


def fail_claim(*, claim, txn, by, reason):
    """Transaction Failed: the reason is kept for the CSR and the transaction goes back to the pool."""
    release_transaction(claim, txn)
    claim.failure_reason = reason or "The activity could not be posted."
    claim.mark_transaction_failed(by=by, description=claim.failure_reason)
    claim.resolved_at = timezone.now()


def settle_unmatched(*, claim, retro_settings, by, today, candidates_exist):
    """No transaction was taken: Already Claimed, Not Matched, or still Outstanding for the daily pass."""
    if candidates_exist:
        claim.failure_reason = ALREADY_CLAIMED_REASON
        claim.mark_already_claimed(by=by, description=ALREADY_CLAIMED_REASON)
    elif not retro_settings.reprocessing_enabled:
        claim.failure_reason = NO_REPROCESSING_REASON
        claim.mark_not_matched(by=by, description=NO_REPROCESSING_REASON)
    elif claim.eligible_until < today:
        claim.failure_reason = NOT_MATCHED_REASON
        claim.mark_not_matched(by=by, description=NOT_MATCHED_REASON)
    else:
        return
    claim.resolved_at = timezone.now()


@transaction.atomic(savepoint=False)
def match_retro_claim(*, claim, retro_settings, by=None, today=None):
    """Match one Outstanding claim now; its status says the outcome. Call with the claim row locked or new."""
    if claim.status != S.OUTSTANDING:
        return claim
    today = today or program_today(claim.program)
    claim.attempt_count += 1
    claim.last_attempt_at = timezone.now()
    candidates = candidate_transactions(claim, today)
    txn = reserve_oldest_transaction(claim, candidates)
    if txn is None:
        settle_unmatched(
            claim=claim, retro_settings=retro_settings, by=by, today=today, candidates_exist=candidates.exists()
        )
    else:
        claim.matched_transaction = txn
        claim.failure_reason = ""
        if needs_approval(claim, txn, retro_settings):
            claim.await_approval(by=by, description=f"Transaction {txn.source_id} reserved; waiting for approval.")
        else:
            post_claim_activity(claim=claim, txn=txn, by=by)
    claim.save()
    queue_outcome_email(claim, retro_settings)
    return claim


def eligible_until(transaction_date: dt.date, retro_settings) -> dt.date:
    """Seed 001: matches are attempted until the retro transaction would have expired."""
    return transaction_date + dt.timedelta(days=retro_settings.transaction_lifetime_days)
