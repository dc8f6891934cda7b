"""The single retro matching service: one claim against the pool, used at submission and by reprocessing."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from loyalty import services as loyalty_services
from loyalty import valuation
from loyalty.lifecycle import transition
from loyalty.models import Activity, Location
from loyalty.sql import run
from retro import sql
from retro.models import RetroClaimStatus
from retro.notifications import queue_outcome_email

S = RetroClaimStatus
ALREADY_CLAIMED_REASON = "Every retro transaction matching this claim has already been claimed."
NOT_MATCHED_REASON = "No retro transaction matched this claim while it was eligible."
NO_REPROCESSING_REASON = "No retro transaction matched, and reprocessing is off: the first attempt is the only one."
TERMINAL = {S.MATCHED, S.TRANSACTION_FAILED, S.ALREADY_CLAIMED, S.NOT_MATCHED, S.REVERSED}
# What an attempt and its outcome change on a claim, saved with its new status.
OUTCOME_FIELDS = (
    "attempt_count",
    "last_attempt_at",
    "matched_transaction",
    "activity",
    "failure_reason",
    "estimated_points",
    "resolved_at",
)


def program_today(program):
    return program.local_date(timezone.now())


def reserve_oldest_transaction(claim, today, *, fresh=False):
    """Take the oldest unclaimed claimable transaction for the claim, or None. The database decides any race."""
    statement, read_txn, read_location = sql.reserve_statement()
    params = [*sql.claim_rule_params(claim, today), claim.pk]
    if fresh:
        # A claim inserted by this transaction holds nothing and nobody else can see it: no savepoint needed.
        rows = run(statement, params)
    else:
        try:
            with transaction.atomic():
                rows = run(statement, params)
        except IntegrityError:
            # The claim already holds a transaction (another pass got there first): nothing more to take.
            return None
    if not rows:
        return None
    txn = read_txn(rows[0])
    txn.claimed_by = claim
    # The lookup transaction_location() would make, done by the same statement.
    txn.found_location = read_location(rows[0]) if txn.location_code else None
    return txn


def any_claimable(claim, today):
    """Whether any transaction, taken or not, answers the claim (Already Claimed rather than Outstanding)."""
    [(found,)] = run(sql.any_claimable_statement(), sql.claim_rule_params(claim, today))
    return found


def release_transaction(claim, txn):
    """Put the transaction back in the pool (only if this claim holds it)."""
    run(sql.release_statement(), [txn.pk, claim.pk])


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
    if hasattr(txn, "found_location"):
        return txn.found_location  # read by the reserving statement
    return Location.objects.filter(program_id=txn.program_id, code=txn.location_code).first()


def estimate_points(claim, txn):
    """Points the transaction earns on its own date (rules and tier then); raises when it cannot be valued."""
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
    """Whether a supervisor must approve before the points are posted.

    With approval required, every claim above the auto-approve cap waits; whatever the
    approval setting, a claim above the program's "always review above" points waits. A
    transaction that cannot be valued (no rule set in force) skips the queue: posting fails
    at once and the CSR sees why, instead of a supervisor later.
    """
    review_above = retro_settings.review_above_points
    if not retro_settings.approval_required and review_above is None:
        return False
    try:
        claim.estimated_points = estimate_points(claim, txn)
    except ValidationError:
        return False
    if review_above is not None and claim.estimated_points > review_above:
        return True
    if not retro_settings.approval_required:
        return False
    cap = retro_settings.auto_approve_max_points
    return cap is None or claim.estimated_points > cap


def credit_claim(*, claim, txn, by=None, name="mark_matched", note=""):
    """Post the claim's activity through loyalty.services and move the claim on by transition `name`.

    A refusal (no rule set in force, bad input) makes the claim Transaction Failed with the reason,
    and the transaction goes back to the pool; it never raises.
    """
    claim.resolved_at = timezone.now()
    try:
        # post_activity is atomic and refuses (NoRuleSetInForce, bad input) before writing anything.
        claim.activity = loyalty_services.post_activity(**activity_fields(claim, txn, by, transaction_location(txn)))
    except ValidationError as exc:
        release_transaction(claim, txn)
        claim.failure_reason = " ".join(exc.messages) or "The activity could not be posted."
        transition(claim, "mark_transaction_failed", by=by, reason=claim.failure_reason, fields=OUTCOME_FIELDS)
        return
    description = f"Matched transaction {txn.source_id} ({txn.occurred_on.isoformat()}). {note}".strip()
    transition(claim, name, by=by, reason=description, fields=OUTCOME_FIELDS)


def settle_unmatched(*, claim, retro_settings, by, today, candidates_exist):
    """No transaction was taken: Already Claimed, Not Matched, or still Outstanding for the daily pass."""
    if candidates_exist:
        name, reason = "mark_already_claimed", ALREADY_CLAIMED_REASON
    elif not claim.reprocess:
        name, reason = "mark_not_matched", NO_REPROCESSING_REASON
    elif claim.eligible_until < today:
        name, reason = "mark_not_matched", NOT_MATCHED_REASON
    else:
        return False
    claim.failure_reason = reason
    claim.resolved_at = timezone.now()
    transition(claim, name, by=by, reason=reason, fields=OUTCOME_FIELDS)
    return True


@transaction.atomic(savepoint=False)
def match_retro_claim(*, claim, retro_settings, by=None, today=None, fresh=False):
    """Match one Outstanding claim now; its status says the outcome. Call with the claim row locked or new.

    fresh: the claim was inserted by the current transaction (submission) with its first attempt
    already counted, so it can hold no transaction yet and has nothing else to save when it stays
    Outstanding.
    """
    if claim.status != S.OUTSTANDING:
        return claim
    today = today or program_today(claim.program)
    if not fresh:
        claim.attempt_count += 1
        claim.last_attempt_at = timezone.now()
    txn = reserve_oldest_transaction(claim, today, fresh=fresh)
    if txn is None:
        settled = settle_unmatched(
            claim=claim,
            retro_settings=retro_settings,
            by=by,
            today=today,
            candidates_exist=any_claimable(claim, today),
        )
        if not settled and not fresh:
            claim.save(update_fields=["attempt_count", "last_attempt_at"])
    else:
        claim.matched_transaction = txn
        claim.failure_reason = ""
        if needs_approval(claim, txn, retro_settings):
            reason = f"Transaction {txn.source_id} reserved; waiting for approval."
            transition(claim, "await_approval", by=by, reason=reason, fields=OUTCOME_FIELDS)
        else:
            credit_claim(claim=claim, txn=txn, by=by)
    queue_outcome_email(claim, retro_settings)
    return claim


def eligible_until(transaction_date: dt.date, retro_settings) -> dt.date:
    """Seed 001: matches are attempted until the retro transaction would have expired."""
    return transaction_date + dt.timedelta(days=retro_settings.transaction_lifetime_days)
