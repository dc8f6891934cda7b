"""The CSR's home page panel: my claims due today or overdue (their reply-by date)."""

from django.utils import timezone

from claims.selectors import claims_due

SHOWN = 20


def due_claims_panel(request):
    today = timezone.localdate()
    claims = list(claims_due(request.user, today)[: SHOWN + 1])
    for claim in claims:
        claim.overdue = claim.reply_by < today
    return {
        "claims": claims[:SHOWN],
        "more": len(claims) > SHOWN,
        "today": today,
        "overdue": sum(1 for c in claims if c.overdue),
        "due_today": sum(1 for c in claims if not c.overdue),
    }
