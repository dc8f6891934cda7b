"""A retro claim's status badge and points, drawn for every row of a grid: tags, not includes.

An {% include %} per cell cost the Retro Claim Activity page a quarter of its time. The partials
retro/partials/status_badge.html and claim_points.html, for single uses, call these tags too.
"""

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat
from django.utils.html import format_html

from retro.models import RetroClaimStatus

register = template.Library()
S = RetroClaimStatus
BADGE_CLASSES = {
    S.MATCHED: "text-bg-success",
    S.OUTSTANDING: "text-bg-info",
    S.PENDING_APPROVAL: "text-bg-primary",
    S.TRANSACTION_FAILED: "text-bg-danger",
    S.ALREADY_CLAIMED: "text-bg-warning",
    S.REVERSED: "text-bg-dark",
    S.REJECTED: "bg-danger-subtle text-danger-emphasis border border-danger-subtle",
    S.WITHDRAWN: "bg-light text-secondary border",
}


@register.simple_tag
def status_badge(claim):
    css = BADGE_CLASSES.get(claim.status, "text-bg-secondary")
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>', css, claim.status, claim.get_status_display()
    )


@register.simple_tag
def claim_points(claim, for_member=False):
    """What the claim earned or, once reversed, the points struck through and netted to 0, with when (and by whom)."""
    if claim.status == S.REVERSED:
        when = getattr(claim, "reversed_at", None)
        by = getattr(claim, "reversed_by_name", None)
        return format_html(
            '<span class="claim-points" data-reversed="true"><s class="text-muted" title="Earned, then taken back">'
            '{}</s> 0</span>\n<span class="d-block small text-muted text-wrap claim-reversal">Reversed{}{}</span>',
            floatformat(claim.points, 0),
            format_html(' on <span class="text-nowrap">{}</span>', date_filter(when, "Y-m-d")) if when else "",
            format_html(" by {}", by) if by and not for_member else "",
        )
    if claim.activity_id:
        return format_html('<span class="claim-points">{}</span>', floatformat(claim.points, 0))
    return ""
