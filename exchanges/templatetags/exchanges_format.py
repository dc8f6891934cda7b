"""How the exchanges screens write a case's age."""

from django import template

register = template.Library()


@register.filter
def duration_age(delta):
    """A timedelta as an agent reads an age: "3 d 4 h", "2 h 5 min", "7 min"."""
    if delta is None:
        return ""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"
