"""Retro claim writes: settings, submission (with an immediate match), approval, rejection, reversal, key changes."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from loyalty.background import queue_task
from loyalty.eligibility import earning_refusal
from loyalty.sql import db_values, run
from retro import bounds, keys, sql

# Supervisors' decisions live beside their policy; they are retro claim writes like the rest.
from retro.decisions import approve_retro_claim as approve_retro_claim
from retro.decisions import reject_retro_claim as reject_retro_claim
from retro.decisions import reverse_retro_claim as reverse_retro_claim
from retro.decisions import withdraw_retro_claim as withdraw_retro_claim
from retro.matching import eligible_until, match_retro_claim, program_today
from retro.models import RetroClaim, RetroClaimKey, RetroClaimStatus, RetroTransaction
from retro.program_settings import ensure_settings

S = RetroClaimStatus
NUMBER_PREFIX = "RC"


class RetroClaimRefused(ValidationError):
    """A submission the program's retro settings do not allow."""


def claim_number(pk):
    return f"{NUMBER_PREFIX}{pk:08d}"


def _check_enabled_and_limit(*, membership, retro_settings):
    if not retro_settings.retro_enabled:
        raise RetroClaimRefused(f"Retro claims are not enabled for {membership.program.name}.")
    count, days = retro_settings.submission_limit_count, retro_settings.submission_limit_days
    if count is not None and days is not None:
        since = timezone.now() - dt.timedelta(days=days)
        recent = RetroClaim.objects.filter(membership=membership, submitted_at__gte=since).count()
        if recent >= count:
            raise RetroClaimRefused(
                f"This member has reached the limit of {count} retro claim{'s' if count != 1 else ''} "
                f"in {days} day{'s' if days != 1 else ''}."
            )


def _check_member(*, membership):
    refusal = earning_refusal(membership.member)
    if refusal:
        raise RetroClaimRefused(refusal, code="cannot_earn")


def _check_key_values(*, key_fields, key_values, retro_settings):
    """Only the key's own fields, and an amount within the program's bounds."""
    known = {key_field.form_name for key_field in key_fields} | {"transaction_date"}
    unknown = sorted(set(key_values) - known)
    if unknown:
        raise RetroClaimRefused(
            {name: "This program's retro claim key has no such field." for name in unknown}, code="unknown_field"
        )
    for key_field in key_fields:
        if key_field.field == "amount" and str(key_values.get(key_field.form_name, "")).strip():
            amount = keys.normalise_amount(key_values[key_field.form_name])
            problem = bounds.amount_problem(amount, max_amount=retro_settings.max_transaction_amount)
            if problem:
                raise RetroClaimRefused({key_field.form_name: problem}, code="amount_out_of_bounds")


def _check_date(*, membership, retro_settings, transaction_date, today):
    if transaction_date > today:
        raise RetroClaimRefused({"transaction_date": "The transaction date cannot be in the future."})
    if transaction_date < bounds.EARLIEST_DATE:
        raise RetroClaimRefused({"transaction_date": bounds.date_problem(transaction_date, today=today)})
    by_age, earliest = bounds.claim_date_limits(
        retro_settings=retro_settings, joined_on=membership.joined_on, today=today
    )
    if transaction_date < by_age:
        age = (today - transaction_date).days
        raise RetroClaimRefused(
            {
                "transaction_date": f"The transaction is {age} days old; retro claims accept transactions up to "
                f"{retro_settings.max_transaction_age_days} days old."
            }
        )
    if transaction_date < earliest:
        buffer = retro_settings.enrolment_buffer_days
        raise RetroClaimRefused(
            {
                "transaction_date": f"The transaction is dated before {earliest.isoformat()}: the member enrolled on "
                f"{membership.joined_on.isoformat()} and claims may go back {buffer} day{'s' if buffer != 1 else ''}."
            }
        )


def _key_and_date(key_fields, key_values, transaction_date):
    """The stored key and the transaction date, or every field error at once."""
    errors, match_key, date = {}, None, None
    try:
        match_key = keys.normalise_with_fields(key_fields, key_values)
    except ValidationError as exc:
        errors.update(exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages})
    try:
        date = _resolve_transaction_date(key_fields, key_values, transaction_date)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return match_key, date


def _resolve_transaction_date(key_fields, key_values, transaction_date):
    if transaction_date is not None:
        try:
            return keys.normalise_date(transaction_date)
        except ValidationError as exc:
            raise ValidationError({"transaction_date": exc.messages})
    from_key = keys.key_date_value(key_fields, key_values)
    if from_key is None and not any(f.field == "transaction_date" for f in key_fields):
        raise ValidationError({"transaction_date": keys.REQUIRED})
    return from_key


def submit_retro_claim(
    *, membership, channel, submitted_by, key_values: dict, transaction_type="purchase", transaction_date=None
) -> RetroClaim:
    """Check the program's settings, record the claim and match it at once; its status says the outcome."""
    program = membership.program
    retro_settings, key_fields = _settings_and_key_fields(program, transaction_type)
    today = program_today(program)
    with transaction.atomic():
        if retro_settings.retro_enabled and retro_settings.submission_limit_count is not None:
            # Lock the membership so two submissions at once cannot both slip under the submission limit.
            type(membership).objects.select_for_update().filter(pk=membership.pk).first()
        # The member first, then the settings (retro on, the limit), the key fields, what the date allows.
        _check_member(membership=membership)
        _check_enabled_and_limit(membership=membership, retro_settings=retro_settings)
        key_values = dict(key_values or {})
        match_key, date = _key_and_date(key_fields, key_values, transaction_date)
        _check_key_values(key_fields=key_fields, key_values=key_values, retro_settings=retro_settings)
        _check_date(membership=membership, retro_settings=retro_settings, transaction_date=date, today=today)
        definition = key_fields[0].key
        now = timezone.now()
        claim = RetroClaim(
            program=program,
            membership=membership,
            transaction_type=transaction_type,
            channel=channel,
            submitted_by=submitted_by if getattr(submitted_by, "pk", None) else None,
            submitted_at=now,
            transaction_date=date,
            key_values={k: _json_value(v) for k, v in key_values.items()},
            match_key=match_key,
            key_version=definition.version,
            eligible_until=eligible_until(date, retro_settings),
            # Matched at once, below: the first attempt is counted as the claim is written.
            attempt_count=1,
            last_attempt_at=now,
            # Seed 001: whether it is retried depends on the settings at the time of the first attempt.
            reprocess=retro_settings.reprocessing_enabled,
            # Written with the claim (the member is loaded, _check_member read it): the insert trigger that
            # fills it for other writers (migration 0010) then has nothing to do.
            member_name=membership.member.search_name,
        )
        _insert_claim(claim)  # the number comes from the id
        match_retro_claim(claim=claim, retro_settings=retro_settings, by=claim.submitted_by, today=today, fresh=True)
        if claim.status in (S.OUTSTANDING, S.ALREADY_CLAIMED):
            # Only now, off the hot path: a claim that matched took a transaction never reversed for this member.
            _refuse_reversed_reclaim(claim)
        return claim


def _refuse_reversed_reclaim(claim):
    """The transaction this claim describes was credited to the member and reversed: it cannot come back."""
    reversed_claim = (
        RetroClaim.objects.filter(
            membership_id=claim.membership_id,
            program_id=claim.program_id,
            status=S.REVERSED,
            matched_transaction__match_key=claim.match_key,
        )
        .order_by("-resolved_at")
        .first()
    )
    if reversed_claim is not None:
        when = reversed_claim.resolved_at.date().isoformat() if reversed_claim.resolved_at else "earlier"
        raise RetroClaimRefused(
            f"This transaction was credited to this member by claim {reversed_claim.number} and reversed on {when}: "
            "it cannot be claimed again.",
            code="reversed_before",
        )


def _settings_and_key_fields(program, transaction_type):
    """The program's retro settings and the key fields of the type (as key_fields_for), in one query.

    Submission is the hot path: one prepared statement reads what ensure_settings() and
    keys.key_fields_for() would read with two ORM queries. Without a key or settings row it
    falls back to those two (which create the settings).
    """
    statement, read_settings, read_key, read_field = sql.submission_setup_statement()
    rows = run(statement, [program.pk, transaction_type])
    if rows and rows[0][0] is not None:
        retro_settings = read_settings(rows[0])
        retro_settings.program = program
        key = read_key(rows[0])
        key_fields = []
        for row in rows:
            key_field = read_field(row)
            key_field.key = key
            key_fields.append(key_field)
        return retro_settings, key_fields
    return ensure_settings(program), keys.key_fields_for(program, transaction_type)


def _insert_claim(claim):
    """Insert the new claim with its number (RC + zero-padded id), both from one prepared statement."""
    params = [NUMBER_PREFIX, *db_values(sql.claim_insert_fields(), claim, adding=True)]
    [(pk, member_name)] = run(sql.insert_claim_statement(), params)
    claim.pk, claim.number, claim.member_name = pk, claim_number(pk), member_name
    claim._state.adding, claim._state.db = False, connection.alias


def _json_value(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


# --- key definition changes ------------------------------------------------------------------


def schedule_key_recompute(*, key: RetroClaimKey) -> RetroClaimKey:
    """After the fields of a key changed: bump its version and recompute stored keys in the background."""
    with transaction.atomic():
        key = RetroClaimKey.objects.select_for_update().get(pk=key.pk)
        key.version += 1
        key.recompute_state = RetroClaimKey.RecomputeState.QUEUED
        key.recompute_done = 0
        key.recompute_total = 0
        key.recompute_error = ""
        key.save(update_fields=["version", "recompute_state", "recompute_done", "recompute_total", "recompute_error"])
        key_id, version = key.pk, key.version
        queue_task("retro.recompute_retro_keys", key_id, version)
    return key


def recompute_stored_keys(*, key_id, version, batch_size=2000):
    """Recompute match keys of the pool and of Outstanding claims for one key definition, in batches.

    Progress is committed after each batch so admin can show it. A newer version
    (another edit meanwhile) stops this run: the newer task redoes the work.
    """
    key = RetroClaimKey.objects.get(pk=key_id)
    if key.version != version:
        return
    fields = keys.key_fields_for(key.program_id, key.transaction_type)
    txns = RetroTransaction.objects.filter(program_id=key.program_id, transaction_type=key.transaction_type)
    claims = RetroClaim.objects.filter(
        program_id=key.program_id, transaction_type=key.transaction_type, status=S.OUTSTANDING
    )
    total = txns.count() + claims.count()
    _progress(key_id, version, state=RetroClaimKey.RecomputeState.RUNNING, done=0, total=total)
    done = 0
    try:
        for model, queryset in ((RetroTransaction, txns), (RetroClaim, claims)):
            last_id = 0
            while True:
                rows = list(queryset.filter(pk__gt=last_id).order_by("pk")[:batch_size])
                if not rows:
                    break
                for row in rows:
                    row.match_key = _recomputed_key(row, fields)
                    if model is RetroClaim:
                        row.key_version = version
                with transaction.atomic():
                    update = ["match_key", "key_version"] if model is RetroClaim else ["match_key"]
                    model.objects.bulk_update(rows, update, batch_size=500)
                last_id = rows[-1].pk
                done += len(rows)
                if not _progress(key_id, version, done=done):
                    return
    except Exception as exc:
        _progress(key_id, version, state=RetroClaimKey.RecomputeState.FAILED, error=str(exc)[:2000])
        raise
    _progress(key_id, version, state=RetroClaimKey.RecomputeState.IDLE, done=done)


def _recomputed_key(row, fields):
    try:
        if isinstance(row, RetroTransaction):
            return keys.transaction_match_key(row, fields)
        return keys.normalise_with_fields(fields, row.key_values)
    except ValidationError:
        # Values that do not fit the new definition can never match anything.
        return keys.unmatchable_key("t" if isinstance(row, RetroTransaction) else "c", row.pk)


def _progress(key_id, version, *, state=None, done=None, total=None, error=None):
    """Write progress for this version only; False when a newer version has taken over."""
    changes = {}
    if state is not None:
        changes["recompute_state"] = state
    if done is not None:
        changes["recompute_done"] = done
    if total is not None:
        changes["recompute_total"] = total
    if error is not None:
        changes["recompute_error"] = error
    return bool(RetroClaimKey.objects.filter(pk=key_id, version=version).update(**changes))
