"""The daily reprocessing pass: every Outstanding claim re-matched set-based, in batches, oldest transaction first.

One SQL statement per batch (retro.sql.assign_statement) decides every claim's
transaction; the activities are posted in one loyalty.services.post_activities
call and the outcomes written with one bulk_transition per outcome, each a
single statement that also logs the transitions. Each batch is one database
transaction, so a pass killed half-way leaves whole batches done or
untouched; claimed_by and the claim number as the activity's external
reference make a second run credit nothing twice. Claims whose member once had
a transaction of their key reversed go through the one-claim matching service,
which applies that exclusion.
"""

import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone

from loyalty import services as loyalty_services
from loyalty.eligibility import NON_EARNING_STATUSES, memberships_that_cannot_earn
from loyalty.lifecycle import bulk_transition
from loyalty.models import Location, Program
from loyalty.selectors import memberships_by_id
from retro import matching, sql
from retro.models import RetroClaim, RetroClaimStatus
from retro.notifications import STATUS_OUTCOME, queue_emails, wants
from retro.program_settings import ensure_settings

S = RetroClaimStatus
DEFAULT_BATCH_SIZE = 10_000
KEYS_PER_QUERY = 10_000  # well under PostgreSQL's 65,535 parameters of one statement
TRANSITIONS = {
    S.MATCHED: "mark_matched",
    S.PENDING_APPROVAL: "await_approval",
    S.TRANSACTION_FAILED: "mark_transaction_failed",
    S.ALREADY_CLAIMED: "mark_already_claimed",
    S.NOT_MATCHED: "mark_not_matched",
}
# What each outcome writes besides the status (per claim), and whether it ends the claim.
OUTCOME_ROW_FIELDS = ("attempt_count", "matched_transaction", "activity", "failure_reason", "estimated_points")
UNRESOLVED = {S.OUTSTANDING, S.PENDING_APPROVAL}


@dataclass
class PassResult:
    """What one pass did, with the time spent deciding matches apart from the time spent posting."""

    seen: int = 0
    counts: dict = field(default_factory=dict)
    match_seconds: float = 0.0
    post_seconds: float = 0.0
    total_seconds: float = 0.0

    def add(self, status, n=1):
        self.counts[status] = self.counts.get(status, 0) + n

    def __str__(self):
        parts = ", ".join(f"{S(k).label}: {v}" for k, v in sorted(self.counts.items()))
        return f"{self.seen} outstanding claims processed in {self.total_seconds:.1f} s ({parts or 'nothing to do'})"


def outstanding_total():
    return RetroClaim.objects.filter(status=S.OUTSTANDING).count()


def run_daily_pass(*, batch_size=DEFAULT_BATCH_SIZE, progress=None) -> PassResult:
    """Re-match every Outstanding claim of every program. `progress(done)` is called after each batch."""
    started = time.perf_counter()
    result = PassResult()
    program_ids = RetroClaim.objects.filter(status=S.OUTSTANDING).values_list("program_id", flat=True).distinct()
    for program in Program.objects.filter(pk__in=list(program_ids)).order_by("pk"):
        retro_settings = ensure_settings(program)
        today = matching.program_today(program)
        _close_windows(program, retro_settings, today, result, progress)
        claims = RetroClaim.objects.filter(program=program, status=S.OUTSTANDING)
        for transaction_type in claims.values_list("transaction_type", flat=True).distinct().order_by():
            last_id = 0
            while True:
                ids = list(
                    claims.filter(transaction_type=transaction_type, pk__gt=last_id)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:batch_size]
                )
                if not ids:
                    break
                last_id = ids[-1]
                _match_batch(program, transaction_type, ids, retro_settings, today, result)
                result.seen += len(ids)
                if progress:
                    progress(result.seen)
    result.total_seconds = time.perf_counter() - started
    return result


def match_waiting_claims(*, program, transaction_type, match_keys=None, batch_size=DEFAULT_BATCH_SIZE) -> PassResult:
    """Outstanding claims answered by newly imported transactions, matched now as the daily pass would.

    `match_keys`: the keys the new transactions carry (None: every Outstanding claim of the program and
    type). Same set-based batches, same outcomes, emails and postings as the daily pass, which stays
    the safety net for anything this misses.
    """
    started = time.perf_counter()
    result = PassResult()
    retro_settings = ensure_settings(program)
    today = matching.program_today(program)
    claims = RetroClaim.objects.filter(program=program, transaction_type=transaction_type, status=S.OUTSTANDING)
    if match_keys is None:
        ids = list(claims.order_by("pk").values_list("pk", flat=True))
    else:
        keys, ids = sorted(set(match_keys)), []
        for start in range(0, len(keys), KEYS_PER_QUERY):
            ids += claims.filter(match_key__in=keys[start : start + KEYS_PER_QUERY]).values_list("pk", flat=True)
        ids.sort()
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        _match_batch(program, transaction_type, batch, retro_settings, today, result)
        result.seen += len(batch)
    result.total_seconds = time.perf_counter() - started
    return result


def _close_windows(program, retro_settings, today, result, progress):
    """Outstanding claims that can no longer match become Not Matched, each group with its reason.

    Past their window; submitted while reprocessing was off (seed 001: the settings at the
    first attempt decide, not today's); or of a member who cannot earn (Suspended, Closed).
    """
    outstanding = RetroClaim.objects.filter(program=program, status=S.OUTSTANDING)
    groups = [
        (outstanding.filter(reprocess=True, eligible_until__lt=today), matching.NOT_MATCHED_REASON),
        (outstanding.filter(reprocess=False), matching.NO_REPROCESSING_REASON),
    ]
    for status in NON_EARNING_STATUSES:
        reason = f"The member's account is {status.label}: it cannot earn points."
        groups.append((outstanding.filter(membership__in=memberships_that_cannot_earn(status)), reason))
    for claims, reason in groups:
        _close(claims, reason, retro_settings, result, progress)


def _close(claims, reason, retro_settings, result, progress):
    while True:
        with transaction.atomic():
            ids = list(claims.order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:5000])
            if not ids:
                return
            closed = bulk_transition(
                ids,
                "mark_not_matched",
                model=RetroClaim,
                by=None,
                reason=reason,
                values={"failure_reason": reason, "resolved_at": timezone.now()},
            )
            if wants(retro_settings, "not_matched"):
                queue_emails([(pk, "not_matched") for pk in closed])
        result.add(S.NOT_MATCHED, len(closed))
        result.seen += len(ids)
        if progress:
            progress(result.seen)


def _match_batch(program, transaction_type, ids, retro_settings, today, result):
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            one_by_one = set()
            if RetroClaim.objects.filter(program=program, status=S.REVERSED).exists():
                cursor.execute(sql.reversed_before_statement(), {"ids": ids, "reversed": S.REVERSED})
                one_by_one = {row[0] for row in cursor.fetchall()}
            params = {
                "ids": [i for i in ids if i not in one_by_one],
                "outstanding": S.OUTSTANDING,
                "program": program.pk,
                "type": transaction_type,
                "today": today,
                "now": timezone.now(),
            }
            cursor.execute(sql.assign_statement(), params)
            rows = cursor.fetchall()
            claim_end = len(sql.PASS_CLAIM_COLUMNS)
            txn_end = claim_end + len(sql.PASS_TXN_COLUMNS)
            # (claim, transaction) pairs as light objects: the assignment query already read what posting needs.
            claims = {
                row[0]: SimpleNamespace(**dict(zip(sql.PASS_CLAIM_COLUMNS, row[:claim_end], strict=True)),
                                        program_id=program.pk, transaction_type=transaction_type,
                                        estimated_points=None)
                for row in rows
            }  # fmt: skip
            assigned = [
                (
                    claims[row[0]],
                    SimpleNamespace(**dict(zip(sql.PASS_TXN_COLUMNS, row[claim_end:txn_end], strict=True)),
                                    program_id=program.pk),
                )
                for row in rows
                if row[claim_end] is not None
            ]  # fmt: skip
        # outcome per claim: [status, txn_id, activity_id, reason, points]
        outcomes = {}
        for row in rows:
            claim_id, txn_id, already_claimed = row[0], row[claim_end], row[txn_end]
            if txn_id is not None:
                outcomes[claim_id] = [S.MATCHED, txn_id, None, "", None]
            elif already_claimed:
                outcomes[claim_id] = [S.ALREADY_CLAIMED, None, None, matching.ALREADY_CLAIMED_REASON, None]
            else:
                outcomes[claim_id] = [S.OUTSTANDING, None, None, "", None]
        result.match_seconds += time.perf_counter() - started

        started = time.perf_counter()
        _post_matched(program, outcomes, assigned, retro_settings)
        result.post_seconds += time.perf_counter() - started

        started = time.perf_counter()
        _write_outcomes(outcomes, claims, retro_settings, result)
        for pk in sorted(one_by_one):
            claim = RetroClaim.objects.select_for_update().select_related("program", "membership").get(pk=pk)
            matching.match_retro_claim(claim=claim, retro_settings=retro_settings, today=today)
            result.add(claim.status)
        result.match_seconds += time.perf_counter() - started


def _post_matched(program, outcomes, assigned, retro_settings):
    """Post the batch's matched claims with one post_activities call; failures become Transaction Failed."""
    if not assigned:
        return
    memberships = memberships_by_id(claim.membership_id for claim, _ in assigned)
    for membership in memberships.values():
        membership.program = program  # one shared Program object, not one per row
    codes = {txn.location_code for _, txn in assigned if txn.location_code}
    locations = {loc.code: loc for loc in Location.objects.filter(program=program, code__in=codes)} if codes else {}
    to_post = []
    for claim, txn in assigned:
        claim.membership = memberships[claim.membership_id]
        if isinstance(txn.attributes, str):  # Django leaves jsonb as text for its fields to parse
            txn.attributes = json.loads(txn.attributes)
        if matching.needs_approval(claim, txn, retro_settings):
            outcomes[claim.pk][0] = S.PENDING_APPROVAL
            outcomes[claim.pk][4] = claim.estimated_points
            continue
        outcomes[claim.pk][4] = claim.estimated_points
        to_post.append((claim, txn, matching.activity_fields(claim, txn, None, locations.get(txn.location_code))))
    if not to_post:
        return
    requests = [loyalty_services.ActivityRequest(**fields) for _, _, fields in to_post]
    results = loyalty_services.post_activities(requests=requests)
    failed_txns, failed_claims = [], []
    for (claim, txn, _), item in zip(to_post, results, strict=True):
        activity, error = _activity_or_error(item)
        if activity is not None:
            outcomes[claim.pk][2] = activity.pk
        else:
            outcomes[claim.pk][0] = S.TRANSACTION_FAILED
            outcomes[claim.pk][3] = error or "The activity could not be posted."
            failed_txns.append(txn.pk)
            failed_claims.append(claim.pk)
    if failed_txns:
        with connection.cursor() as cursor:
            cursor.execute(sql.release_transactions_statement(), [failed_txns, failed_claims])


def _activity_or_error(item):
    """One post_activities result as (activity, None) or (None, readable reason)."""
    if isinstance(item, Exception):
        return None, " ".join(getattr(item, "messages", [str(item)]))
    error = getattr(item, "error", None)
    if error:
        return None, error if isinstance(error, str) else " ".join(getattr(error, "messages", [str(error)]))
    return getattr(item, "activity", item), None


def _write_outcomes(outcomes, claims, retro_settings, result):
    """One bulk_transition per outcome (status, fields and log rows together); emails go on commit."""
    if not outcomes:
        return
    now = timezone.now()
    by_status = {}
    for pk, outcome in outcomes.items():
        by_status.setdefault(outcome[0], []).append(pk)
    for status, ids in by_status.items():
        result.add(status, len(ids))
        if status == S.OUTSTANDING:
            continue  # no match yet: the assigning statement counted the attempt; tomorrow's pass tries again
        values = {"last_attempt_at": now}
        if status not in UNRESOLVED:
            values["resolved_at"] = now
        row_values = {name: {} for name in OUTCOME_ROW_FIELDS}
        for pk in ids:
            _, txn_id, activity_id, reason, points = outcomes[pk]
            row = row_values
            row["attempt_count"][pk] = claims[pk].attempt_count + 1
            row["matched_transaction"][pk] = txn_id
            row["activity"][pk] = activity_id
            row["failure_reason"][pk] = reason
            row["estimated_points"][pk] = points
        bulk_transition(
            ids,
            TRANSITIONS[status],
            model=RetroClaim,
            by=None,
            reason={pk: _description(outcomes[pk]) for pk in ids},
            row_values=row_values,
            values=values,
        )
    emails = []
    for pk, (status, *_) in outcomes.items():
        outcome = STATUS_OUTCOME.get(status)
        if status not in UNRESOLVED and wants(retro_settings, outcome):
            emails.append((pk, outcome))
    queue_emails(emails)


def _description(outcome):
    status, txn_id, _, reason, _ = outcome
    if status == S.MATCHED:
        return f"Matched retro transaction #{txn_id} by the daily reprocessing pass."
    if status == S.PENDING_APPROVAL:
        return f"Retro transaction #{txn_id} reserved by the daily pass; waiting for approval."
    return reason
