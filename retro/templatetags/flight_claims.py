"""A flight claim's name-check badge, drawn for every row of the Flights Approval queue: a tag, not an include."""

from django import template
from django.utils.html import format_html

register = template.Library()
BADGES = {
    "match": ("text-bg-success", "✓ Name matches"),
    "near_miss": ("text-bg-warning", "Near miss"),
    "mismatch": ("text-bg-danger", "Name differs"),
    "missing": ("text-bg-secondary", "No name on coupon"),
    "manual": ("text-bg-light border", "Manual entry"),
}


@register.simple_tag
def name_badge(result, score=0):
    css, label = BADGES.get(result, BADGES["mismatch"])
    if score and result in ("near_miss", "mismatch"):
        label = f"{label} · {score}%"
    return format_html('<span class="badge {} name-check" data-result="{}">{}</span>', css, result, label)
