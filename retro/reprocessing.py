"""The daily reprocessing pass: every Outstanding claim re-matched set-based, in batches, oldest transaction first.

On PostgreSQL one SQL statement per batch decides every claim's transaction
(ROW_NUMBER over the batch's claims and over their free candidates, joined
on the stored key, both sides locked with SKIP LOCKED); the activities are
posted in one loyalty.services.post_activities call, statuses written in one
UPDATE and transitions logged with one StateLog bulk_create. Each batch is
one database transaction, so a pass killed half-way leaves whole batches
done or untouched; claimed_by and the claim number as the activity's
external reference make a second run credit nothing twice. Elsewhere
(SQLite) each claim goes through the single matching service instead.
"""

import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django_fsm_log.models import StateLog

from loyalty.models import Location, Membership, Program
from retro import matching
from retro.models import RetroClaim, RetroClaimStatus
from retro.notifications import STATUS_OUTCOME, queue_emails, wants
from retro.services import ensure_settings

S = RetroClaimStatus
DEFAULT_BATCH_SIZE = 10_000
TRANSITIONS = {
    S.MATCHED: "mark_matched",
    S.PENDING_APPROVAL: "await_approval",
    S.TRANSACTION_FAILED: "mark_transaction_failed",
    S.ALREADY_CLAIMED: "mark_already_claimed",
    S.NOT_MATCHED: "mark_not_matched",
}

ASSIGN_SQL = """
WITH batch AS (
    SELECT c.id, c.number, c.membership_id, c.submitted_at, c.match_key FROM retro_retroclaim c
    WHERE c.id = ANY(%(ids)s) AND c.status = 'outstanding'
    FOR UPDATE SKIP LOCKED
), ranked_claims AS (
    SELECT batch.*, row_number() OVER (PARTITION BY match_key ORDER BY submitted_at, id) AS rn FROM batch
), free AS (
    SELECT t.id, t.match_key, t.occurred_at, t.occurred_on, t.amount, t.currency, t.attributes, t.location_code,
           t.source_id
    FROM retro_retrotransaction t
    WHERE t.program_id = %(program)s AND t.transaction_type = %(type)s
      AND t.match_key IN (SELECT DISTINCT match_key FROM batch)
      AND t.claimed_by_id IS NULL AND t.expires_on >= %(today)s
    FOR UPDATE OF t SKIP LOCKED
), ranked_free AS (
    SELECT free.*, row_number() OVER (PARTITION BY match_key ORDER BY occurred_at, id) AS rn FROM free
)
SELECT c.id, c.number, c.membership_id,
       f.id, f.occurred_at, f.occurred_on, f.amount, f.currency, f.attributes, f.location_code, f.source_id,
       f.id IS NULL AND EXISTS (
           SELECT 1 FROM retro_retrotransaction t
           WHERE t.program_id = %(program)s AND t.transaction_type = %(type)s
             AND t.match_key = c.match_key AND t.expires_on >= %(today)s
       )
FROM ranked_claims c LEFT JOIN ranked_free f ON f.match_key = c.match_key AND f.rn = c.rn
"""
CLAIM_COLUMNS = ("pk", "number", "membership_id")
TXN_COLUMNS = ("pk", "occurred_at", "occurred_on", "amount", "currency", "attributes", "location_code", "source_id")

# Claims whose member once had a transaction of this key reversed: the single service excludes it for them.
REVERSED_BEFORE_SQL = """
SELECT c.id FROM retro_retroclaim c
WHERE c.id = ANY(%(ids)s) AND EXISTS (
    SELECT 1 FROM retro_retroclaim r JOIN retro_retrotransaction t ON t.id = r.matched_transaction_id
    WHERE r.membership_id = c.membership_id AND r.status = 'reversed'
      AND t.program_id = c.program_id AND t.match_key = c.match_key
)
"""

CLAIM_TXN_SQL = """
UPDATE retro_retrotransaction t SET claimed_by_id = u.claim_id
FROM unnest(%s::bigint[], %s::bigint[]) AS u(txn_id, claim_id)
WHERE t.id = u.txn_id AND t.claimed_by_id IS NULL
"""

RELEASE_TXN_SQL = """
UPDATE retro_retrotransaction t SET claimed_by_id = NULL
FROM unnest(%s::bigint[], %s::bigint[]) AS u(txn_id, claim_id)
WHERE t.id = u.txn_id AND t.claimed_by_id = u.claim_id
"""

# One statement per batch: every claim's new status, and a django-fsm-log row for each that changed.
UPDATE_CLAIMS_SQL = """
WITH u AS (
    SELECT * FROM unnest(
        %(ids)s::bigint[], %(statuses)s::text[], %(txns)s::bigint[], %(activities)s::bigint[], %(reasons)s::text[],
        %(points)s::integer[], %(transitions)s::text[], %(descriptions)s::text[]
    ) AS u(id, status, txn_id, activity_id, reason, points, transition, description)
), changed AS (
    UPDATE retro_retroclaim c SET
        status = u.status, matched_transaction_id = COALESCE(u.txn_id, c.matched_transaction_id),
        activity_id = u.activity_id, failure_reason = u.reason,
        estimated_points = COALESCE(u.points, c.estimated_points),
        attempt_count = c.attempt_count + 1, last_attempt_at = %(now)s,
        resolved_at = CASE WHEN u.status IN ('outstanding', 'pending_approval') THEN c.resolved_at ELSE %(now)s END
    FROM u WHERE c.id = u.id AND c.status = 'outstanding'
    RETURNING c.id
)
INSERT INTO django_fsm_log_statelog
    (timestamp, by_id, source_state, state, transition, content_type_id, object_id, description)
SELECT %(now)s, NULL, 'outstanding', u.status, u.transition, %(content_type)s, u.id, u.description
FROM u JOIN changed ON changed.id = u.id
WHERE u.status <> 'outstanding'
"""


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


def run_daily_pass(*, batch_size=DEFAULT_BATCH_SIZE, progress=None, set_based=None) -> PassResult:
    """Re-match every Outstanding claim of every program. `progress(done)` is called after each batch."""
    started = time.perf_counter()
    result = PassResult()
    if set_based is None:
        set_based = connection.vendor == "postgresql"
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
                step = _set_based_batch if set_based else _claim_by_claim_batch
                step(program, transaction_type, ids, retro_settings, today, result)
                result.seen += len(ids)
                if progress:
                    progress(result.seen)
    result.total_seconds = time.perf_counter() - started
    return result


def _close_windows(program, retro_settings, today, result, progress):
    """Outstanding claims past their window (or of a program with reprocessing off) become Not Matched."""
    expired = RetroClaim.objects.filter(program=program, status=S.OUTSTANDING)
    if retro_settings.reprocessing_enabled:
        expired = expired.filter(eligible_until__lt=today)
        reason = matching.NOT_MATCHED_REASON
    else:
        reason = matching.NO_REPROCESSING_REASON
    while True:
        with transaction.atomic():
            ids = list(expired.order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:5000])
            if not ids:
                return
            now = timezone.now()
            RetroClaim.objects.filter(pk__in=ids, status=S.OUTSTANDING).update(
                status=S.NOT_MATCHED, failure_reason=reason, resolved_at=now
            )
            _log_transitions([(pk, S.NOT_MATCHED, reason) for pk in ids], now)
            if wants(retro_settings, "not_matched"):
                queue_emails([(pk, "not_matched") for pk in ids])
        result.add(S.NOT_MATCHED, len(ids))
        result.seen += len(ids)
        if progress:
            progress(result.seen)


def _claim_by_claim_batch(program, transaction_type, ids, retro_settings, today, result):
    """Portable fallback: the single matching service, one claim at a time, each in its own transaction."""
    started = time.perf_counter()
    for pk in ids:
        with transaction.atomic():
            claim = (
                RetroClaim.objects.select_for_update(skip_locked=True)
                .select_related("program", "membership")
                .filter(pk=pk, status=S.OUTSTANDING)
                .first()
            )
            if claim is None:
                continue
            matching.match_retro_claim(claim=claim, retro_settings=retro_settings, today=today)
            result.add(claim.status)
    result.match_seconds += time.perf_counter() - started


def _set_based_batch(program, transaction_type, ids, retro_settings, today, result):
    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            one_by_one = set()
            if RetroClaim.objects.filter(program=program, status=S.REVERSED).exists():
                cursor.execute(REVERSED_BEFORE_SQL, {"ids": ids})
                one_by_one = {row[0] for row in cursor.fetchall()}
            params = {"ids": [i for i in ids if i not in one_by_one], "program": program.pk}
            cursor.execute(ASSIGN_SQL, {**params, "type": transaction_type, "today": today})
            rows = cursor.fetchall()
            # (claim, transaction) pairs as light objects: the assignment query already read what posting needs.
            assigned = [
                (
                    SimpleNamespace(**dict(zip(CLAIM_COLUMNS, row[:3], strict=True)), program_id=program.pk,
                                    transaction_type=transaction_type, estimated_points=None),
                    SimpleNamespace(**dict(zip(TXN_COLUMNS, row[3:11], strict=True)), program_id=program.pk),
                )
                for row in rows
                if row[3] is not None
            ]  # fmt: skip
            if assigned:
                cursor.execute(CLAIM_TXN_SQL, [[t.pk for _, t in assigned], [c.pk for c, _ in assigned]])
        # outcome per claim: [status, txn_id, activity_id, reason, points]
        outcomes = {}
        for row in rows:
            claim_id, txn_id, already_claimed = row[0], row[3], row[11]
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
        _write_outcomes(outcomes, retro_settings, result)
        for pk in sorted(one_by_one):
            claim = RetroClaim.objects.select_for_update().select_related("program", "membership").get(pk=pk)
            matching.match_retro_claim(claim=claim, retro_settings=retro_settings, today=today)
            result.add(claim.status)
        result.match_seconds += time.perf_counter() - started


def _post_matched(program, outcomes, assigned, retro_settings):
    """Post the batch's matched claims with one post_activities call; failures become Transaction Failed."""
    from loyalty import services as loyalty_services

    if not assigned:
        return
    memberships = Membership.objects.in_bulk({claim.membership_id for claim, _ in assigned})
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
            cursor.execute(RELEASE_TXN_SQL, [failed_txns, failed_claims])


def _activity_or_error(item):
    """One post_activities result as (activity, None) or (None, readable reason)."""
    if isinstance(item, Exception):
        return None, " ".join(getattr(item, "messages", [str(item)]))
    error = getattr(item, "error", None)
    if error:
        return None, error if isinstance(error, str) else " ".join(getattr(error, "messages", [str(error)]))
    return getattr(item, "activity", item), None


def _write_outcomes(outcomes, retro_settings, result):
    """One statement updates every claim of the batch and logs their transitions; emails go on commit."""
    if not outcomes:
        return
    ids = list(outcomes)
    values = [outcomes[i] for i in ids]
    with connection.cursor() as cursor:
        cursor.execute(
            UPDATE_CLAIMS_SQL,
            {
                "now": timezone.now(),
                "content_type": ContentType.objects.get_for_model(RetroClaim).pk,
                "ids": ids,
                "statuses": [str(v[0]) for v in values],
                "txns": [v[1] for v in values],
                "activities": [v[2] for v in values],
                "reasons": [v[3] for v in values],
                "points": [v[4] for v in values],
                "transitions": [TRANSITIONS.get(v[0], "") for v in values],
                "descriptions": [_description(v) for v in values],
            },
        )
    emails = []
    for pk, (status, *_) in zip(ids, values, strict=True):
        result.add(status)
        outcome = STATUS_OUTCOME.get(status)
        if status not in (S.OUTSTANDING, S.PENDING_APPROVAL) and wants(retro_settings, outcome):
            emails.append((pk, outcome))
    queue_emails(emails)


def _description(outcome):
    status, txn_id, _, reason, _ = outcome
    if status == S.MATCHED:
        return f"Matched retro transaction #{txn_id} by the daily reprocessing pass."
    if status == S.PENDING_APPROVAL:
        return f"Retro transaction #{txn_id} reserved by the daily pass; waiting for approval."
    return reason


def _log_transitions(changes, timestamp):
    """[(claim_id, target status, description)] from Outstanding, as django-fsm-log rows."""
    if not changes:
        return
    content_type = ContentType.objects.get_for_model(RetroClaim)
    StateLog.objects.bulk_create(
        [
            StateLog(
                timestamp=timestamp,
                by=None,
                source_state=S.OUTSTANDING,
                state=status,
                transition=TRANSITIONS[status],
                content_type=content_type,
                object_id=pk,
                description=description,
            )
            for pk, status, description in changes
        ],
        batch_size=5000,
    )
