"""Emails to members about their retro claims: one template per outcome, sent after commit through Celery."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string

from loyalty.background import queue_task
from retro.models import RetroClaim, RetroClaimStatus
from retro.selectors import award_points, claim_points

S = RetroClaimStatus

# outcome -> (RetroSettings switch, subject)
OUTCOMES = {
    "submitted": ("notify_submitted", "We received your retro claim {number}"),
    "matched": ("notify_matched", "Your retro claim {number} has been credited"),
    "already_claimed": ("notify_already_claimed", "Your retro claim {number}: transaction already claimed"),
    "failed": ("notify_failed", "Your retro claim {number} could not be credited"),
    "not_matched": ("notify_not_matched", "Your retro claim {number} was not matched"),
    "rejected": ("notify_rejected", "Your retro claim {number} was not accepted"),
    "reversed": ("notify_reversed", "Your retro claim {number}: the credit was taken back"),
}
STATUS_OUTCOME = {
    S.OUTSTANDING: "submitted",
    S.PENDING_APPROVAL: "submitted",
    S.MATCHED: "matched",
    S.ALREADY_CLAIMED: "already_claimed",
    S.TRANSACTION_FAILED: "failed",
    S.NOT_MATCHED: "not_matched",
    S.REJECTED: "rejected",
    S.REVERSED: "reversed",
}


def outcome_of(claim, *, first_attempt):
    """The email a claim's current status calls for: "submitted" only after the first attempt."""
    outcome = STATUS_OUTCOME.get(claim.status)
    if outcome == "submitted" and not first_attempt:
        return None
    return outcome


def wants(retro_settings, outcome):
    return outcome in OUTCOMES and getattr(retro_settings, OUTCOMES[outcome][0])


def queue_outcome_email(claim, retro_settings, *, outcome=None):
    """Queue the member's email for the claim's outcome once the surrounding transaction commits."""
    outcome = outcome or outcome_of(claim, first_attempt=claim.attempt_count <= 1)
    if not (outcome and wants(retro_settings, outcome)):
        return
    member = claim.membership._state.fields_cache.get("member")
    if member is not None and not member.email:
        return  # already known: nobody to write to, so no task at all
    queue_emails([(claim.pk, outcome)])


TASK_CHUNK = 1000


def queue_emails(pairs):
    """[(claim_id, outcome)] -> Celery tasks (one per chunk) queued on commit: a rollback sends nothing."""
    pairs = list(pairs)
    if not pairs:
        return
    for start in range(0, len(pairs), TASK_CHUNK):
        queue_task("retro.send_retro_claim_emails", [list(pair) for pair in pairs[start : start + TASK_CHUNK]])


@transaction.atomic
def send_outcome_emails(pairs):
    """Send each (claim_id, outcome) email at most once per claim (safe when a task is retried); returns the count."""
    wanted = {}
    for claim_id, outcome in pairs:
        if outcome in OUTCOMES:
            wanted.setdefault(int(claim_id), []).append(outcome)
    claims = (
        RetroClaim.objects.select_for_update(of=("self",))
        .select_related("membership__member", "membership__program", "matched_transaction")
        .annotate(points=award_points())
        .filter(pk__in=list(wanted))
        .exclude(membership__member__email="")
        .order_by("pk")
    )
    messages, changed = [], []
    for claim in claims:
        member = claim.membership.member
        todo = [o for o in dict.fromkeys(wanted[claim.pk]) if o not in claim.notifications_sent]
        if not todo or not member.email:
            continue
        for outcome in todo:
            context = {
                "claim": claim,
                "member": member,
                "program": claim.membership.program,
                "outcome": outcome,
                "points": claim_points(claim),
            }
            messages.append(
                EmailMessage(
                    OUTCOMES[outcome][1].format(number=claim.number),
                    render_to_string(f"retro/email/{outcome}.txt", context),
                    settings.DEFAULT_FROM_EMAIL,
                    [member.email],
                )
            )
        claim.notifications_sent = [*claim.notifications_sent, *todo]
        changed.append(claim)
    if messages:
        get_connection().send_messages(messages)
        RetroClaim.objects.bulk_update(changed, ["notifications_sent"], batch_size=500)
    return len(messages)


def send_outcome_email(*, claim_id, outcome):
    """One outcome email; True if it was sent now."""
    return send_outcome_emails([(claim_id, outcome)]) == 1
