"""The member's e-mail when a flight claim is decided: queued in the outbox with the decision, sent once."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string

from loyalty.background import queue_task
from loyalty.selectors import activity_award_points
from retro.models import FlightClaim, FlightClaimStatus

SUBJECTS = {
    FlightClaimStatus.APPROVED: "Your flight {flight} has been credited",
    FlightClaimStatus.REJECTED: "Your flight claim {number} was not accepted",
}
TASK = "retro.send_flight_claim_email"


def queue_outcome_email(claim):
    """In the decision's transaction: a rollback queues nothing, the broker being down loses nothing."""
    if claim.status in SUBJECTS and claim.membership.member.email:
        queue_task(TASK, claim.pk)


@transaction.atomic
def send_outcome_email(claim_id):
    """Send the decided claim's e-mail unless it went already (a retried task sends once); True if sent now."""
    claim = (
        FlightClaim.objects.select_for_update(of=("self",))
        .select_related("membership__member", "program", "activity")
        .filter(pk=claim_id)
        .first()
    )
    if claim is None or claim.status not in SUBJECTS or claim.status in claim.notifications_sent:
        return False
    member = claim.membership.member
    if not member.email:
        return False
    context = {"claim": claim, "member": member, "program": claim.program, "miles": _posted_miles(claim)}
    subject = SUBJECTS[claim.status].format(number=claim.number, flight=f"{claim.carrier} {claim.flight_number}")
    body = render_to_string(f"retro/email/flight_{claim.status}.txt", context)
    EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [member.email]).send()
    claim.notifications_sent = [*claim.notifications_sent, claim.status]
    claim.save(update_fields=["notifications_sent"])
    return True


def _posted_miles(claim):
    return activity_award_points(claim.activity_id) if claim.activity_id else 0
