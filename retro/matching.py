"""The single retro matching service: one claim against the pool, used at submission and by reprocessing."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from loyalty.models import Activity, Location
from loyalty.rawsql import row_reader, run
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


def reserve_oldest_transaction(claim, today, *, fresh=False):
    """Take the oldest unclaimed candidate for the claim, or None. The database decides any race.

    SKIP LOCKED passes over rows another claim is taking right now; the conditional
    UPDATE plus the claimed_by one-to-one constraint make the database the final word.
    On PostgreSQL it is one prepared statement (see reserve_in_one_statement).
    """
    if connection.vendor == "postgresql":
        if fresh:
            # A claim inserted by this transaction holds nothing and nobody else can see it: no savepoint needed.
            return reserve_in_one_statement(claim, today)
        try:
            with transaction.atomic():
                return reserve_in_one_statement(claim, today)
        except IntegrityError:
            # The claim already holds a transaction (another pass got there first): nothing more to take.
            return None
    candidates = candidate_transactions(claim, today)
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


def reserve_in_one_statement(claim, today):
    """candidate_transactions() + reserve + the transaction's location, as one UPDATE … RETURNING.

    The ORM would compile three statements per claim, which cost more than running
    them; run() lets psycopg prepare this one. The locked subquery is the same
    SKIP LOCKED pick as the portable loop, so concurrent claims behave alike: a row
    another claim is taking is passed over, and a lost race takes nothing.
    """
    sql, read_txn, read_location = _reserve_sql()
    rows = run(
        sql,
        [claim.program_id, claim.transaction_type, claim.match_key, today, claim.membership_id, S.REVERSED, claim.pk],
    )
    if not rows:
        return None
    txn = read_txn(rows[0])
    txn.claimed_by = claim
    # The lookup transaction_location() would make, done by the same statement.
    txn.found_location = read_location(rows[0]) if txn.location_code else None
    return txn


_reserve_compiled = []


def _reserve_sql():
    if not _reserve_compiled:
        txn_fields = list(RetroTransaction._meta.concrete_fields)
        location_fields = list(Location._meta.concrete_fields)
        columns = [f"t.{f.column}" for f in txn_fields] + [f"l.{f.column}" for f in location_fields]
        # MATERIALIZED: the pick runs exactly once. As a plain subquery the planner may rescan it per
        # pool row, and a rescan skips the row this statement just locked and takes the next one too.
        sql = (
            f"WITH pick AS MATERIALIZED (SELECT c.id, c.program_id, c.location_code"
            f" FROM {RetroTransaction._meta.db_table} c"
            " WHERE c.program_id = %s AND c.transaction_type = %s AND c.match_key = %s AND c.expires_on >= %s"
            " AND c.claimed_by_id IS NULL"
            f" AND NOT EXISTS (SELECT 1 FROM {RetroClaim._meta.db_table} r"
            "  WHERE r.membership_id = %s AND r.status = %s AND r.matched_transaction_id = c.id)"
            " ORDER BY c.occurred_at, c.id LIMIT 1 FOR UPDATE SKIP LOCKED)"
            f" UPDATE {RetroTransaction._meta.db_table} t SET claimed_by_id = %s"
            f" FROM pick LEFT JOIN {Location._meta.db_table} l"
            " ON l.program_id = pick.program_id AND l.code = pick.location_code AND pick.location_code <> ''"
            f" WHERE t.id = pick.id AND t.claimed_by_id IS NULL RETURNING {', '.join(columns)}"
        )
        offset = len(txn_fields)
        _reserve_compiled.append(
            (sql, row_reader(RetroTransaction, txn_fields, 0), row_reader(Location, location_fields, offset))
        )
    return _reserve_compiled[0]


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
    if hasattr(txn, "found_location"):
        return txn.found_location  # read by the reserving statement
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


# What matching may change on a claim just submitted (the rest was written by the INSERT a moment ago).
FRESH_CLAIM_FIELDS = (
    "status",
    "attempt_count",
    "last_attempt_at",
    "matched_transaction",
    "activity",
    "failure_reason",
    "estimated_points",
    "resolved_at",
)


def save_fresh_claim(claim):
    """Write the outcome of a claim inserted by this transaction: only the fields matching changed.

    On PostgreSQL a prepared UPDATE (the ORM would compile it on every submission);
    elsewhere save(update_fields), with the number, which only then is known there.
    """
    if connection.vendor != "postgresql":
        claim.save(update_fields=["number", *FRESH_CLAIM_FIELDS])
        return
    if not _update_compiled:
        fields = [RetroClaim._meta.get_field(name) for name in FRESH_CLAIM_FIELDS]
        assignments = ", ".join(f"{field.column} = %s" for field in fields)
        _update_compiled.append(
            (f"UPDATE {RetroClaim._meta.db_table} SET {assignments} WHERE id = %s RETURNING id", fields)
        )
    sql, fields = _update_compiled[0]
    run(sql, [*(field.get_db_prep_save(field.pre_save(claim, False), connection) for field in fields), claim.pk])


_update_compiled = []


@transaction.atomic(savepoint=False)
def match_retro_claim(*, claim, retro_settings, by=None, today=None, fresh=False):
    """Match one Outstanding claim now; its status says the outcome. Call with the claim row locked or new.

    fresh: the claim was inserted by the current transaction (submission), so it can hold no transaction yet.
    """
    if claim.status != S.OUTSTANDING:
        return claim
    today = today or program_today(claim.program)
    claim.attempt_count += 1
    claim.last_attempt_at = timezone.now()
    txn = reserve_oldest_transaction(claim, today, fresh=fresh)
    if txn is None:
        candidates_exist = candidate_transactions(claim, today).exists()
        settle_unmatched(
            claim=claim, retro_settings=retro_settings, by=by, today=today, candidates_exist=candidates_exist
        )
    else:
        claim.matched_transaction = txn
        claim.failure_reason = ""
        if needs_approval(claim, txn, retro_settings):
            claim.await_approval(by=by, description=f"Transaction {txn.source_id} reserved; waiting for approval.")
        else:
            post_claim_activity(claim=claim, txn=txn, by=by)
    if fresh:
        save_fresh_claim(claim)
    else:
        claim.save()
    queue_outcome_email(claim, retro_settings)
    return claim


def eligible_until(transaction_date: dt.date, retro_settings) -> dt.date:
    """Seed 001: matches are attempted until the retro transaction would have expired."""
    return transaction_date + dt.timedelta(days=retro_settings.transaction_lifetime_days)
