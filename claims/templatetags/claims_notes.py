"""The notes chronology's rows (seed 002), written in Python.

Through the template language each row cost two URL reversals and four filters: a claim with fifty notes
spent 15 ms on them, more than the rest of its screen. The rows are the same HTML written here.
"""

from html import escape  # the standard library's: Django's wraps it for lazy strings, at twice the cost a call

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from loyalty.templatetags.loyalty_format import person

register = template.Library()
SHOWN_CHARACTERS = 140  # of a note's text in the list; View shows it whole


def _shown(text):
    # Truncator only for a note that is longer than the list shows (most are not): it costs 20 µs a note.
    return escape(text if len(text) <= SHOWN_CHARACTERS else Truncator(text).chars(SHOWN_CHARACTERS))


def _row(note, notes_url, zone):
    url = f"{notes_url}{note.sequence}/"
    written = note.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return (
        f'<tr id="note-{note.sequence}"><td>{note.sequence}</td><td>{escape(note.activity_label)}</td>'
        f'<td>{escape(person(note.author, "system"))}</td><td class="text-nowrap">{written}</td>'
        f'<td class="text-truncate" style="max-width: 36rem">{_shown(note.text)}'
        f'</td><td><a href="{url}" class="btn btn-sm btn-outline-secondary py-0" hx-get="{url}" '
        'hx-target="#app-modal-content" data-opens-modal="#app-modal">View</a></td></tr>'
    )


@register.simple_tag
def note_rows(claim, notes):
    """`{% note_rows claim notes %}`: the <tr> of each note (author and activity type read with them)."""
    notes_url = escape(reverse("claim-note-view", args=[claim.pk, 0]).removesuffix("0/"))  # then each note's number
    zone = timezone.get_current_timezone()
    return mark_safe("".join(_row(note, notes_url, zone) for note in notes))  # noqa: S308 - every value escaped above
