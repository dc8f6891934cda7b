"""How the screens write times and metrics: in the program's own time zone, in words."""

from django import template
from django.utils import timezone

from loyalty.models import Metric

register = template.Library()
METRIC_WORDS = {metric.value: str(metric.label).lower() for metric in Metric}


@register.filter
def program_time(moment, program):
    """An aware datetime as the program's staff read it: local date and time, with the zone's abbreviation."""
    if not moment:
        return ""
    if program is None:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")
    return moment.astimezone(program.tz).strftime("%Y-%m-%d %H:%M %Z")


@register.filter
def metric_words(metric):
    """"tier_points" -> "tier points"."""
    return METRIC_WORDS.get(metric, str(metric).replace("_", " "))


@register.filter
def person(user, absent="—"):
    """A staff user as screens name them: their full name, else their username; `absent` when there is none."""
    if user is None:
        return absent
    return user.get_full_name() or user.username
