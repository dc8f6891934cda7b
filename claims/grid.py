"""The search results grid's rows (seed 002's columns), written in Python.

A page shows 25 claims of 21 columns; through the template language each cell cost a handful of
variable look-ups and filters, 25 ms of a 60 ms search. The rows are the same HTML written here.
The small lists a row names (origins, properties, users) are read apart from the claims, three short
prepared statements, rather than joined: twelve joins cost PostgreSQL 15 ms to plan for a page that runs in 1.
"""

from html import escape  # the standard library's: Django's wraps it for lazy strings, at twice the cost a call
from urllib.parse import quote

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.safestring import mark_safe

from claims.models import ClaimDecision, ClaimOrigin, ClaimStatus, MembershipClaim
from loyalty import sql
from loyalty.models import Location

USER_FIELDS = ("id", "username", "first_name", "last_name")


_lookups = {}


def _by_id(model, ids, field_names=None):
    """{pk: instance} of these ids, by a statement prepared once per process (loyalty.sql): compiling three
    querysets cost more than the page's claims took to read. `field_names`: the fields read (else all)."""
    found = _lookups.get(model)
    if found is None:
        fields = [model._meta.get_field(name) for name in field_names] if field_names else model._meta.concrete_fields
        columns = ", ".join(f"t.{sql.column(model, field.name)}" for field in fields)
        pk = sql.column(model, model._meta.pk.name)
        statement = f"SELECT {columns} FROM {sql.table(model)} t WHERE t.{pk} = ANY(%s::bigint[])"
        found = _lookups[model] = (statement, sql.row_reader(model, list(fields), 0))
    statement, read = found
    # Always one query, even for no id: a page costs the same whatever it shows.
    return {obj.pk: obj for obj in map(read, sql.run(statement, [sorted(ids) or [0]]))}


# What a claim is read with, as select_related would read it (through the foreign keys, as exchanges.sql does).
_LINKS = [MembershipClaim._meta.get_field(name) for name in ("program", "membership", "claim_type", "adjustment_code")]
_MEMBER_LINK = _LINKS[1].related_model._meta.get_field("member")
_MEMBERSHIP_PROGRAM = _LINKS[1].related_model._meta.get_field("program")
_grid_statement = []
BIGINT_END = 2**63


def _claims_statement():
    if not _grid_statement:
        Program, Membership, ClaimType, AdjustmentCode = (link.related_model for link in _LINKS)
        parts = [("c", MembershipClaim), ("p", Program), ("ms", Membership), ("m", _MEMBER_LINK.related_model),
                 ("ct", ClaimType), ("ac", AdjustmentCode)]  # fmt: skip
        columns, readers = sql.joined_columns(parts)
        c, p, ms, m, ct, ac = (sql.Names(model) for _, model in parts)
        _grid_statement.append((
            f"SELECT {', '.join(columns)} FROM {c.table} c"
            f" JOIN {p.table} p ON p.{p.pk} = c.{c.program}"
            f" JOIN {ms.table} ms ON ms.{ms.pk} = c.{c.membership}"
            f" JOIN {m.table} m ON m.{m.pk} = ms.{ms.member}"
            f" JOIN {ct.table} ct ON ct.{ct.pk} = c.{c.claim_type}"
            f" LEFT JOIN {ac.table} ac ON ac.{ac.pk} = c.{c.adjustment_code}"
            f" WHERE c.{c.pk} = ANY(%s::bigint[])",
            readers,
        ))  # fmt: skip
    return _grid_statement[0]


def claims_by_id(ids):
    """{pk: claim} of these claims, each with its program, membership, member, claim type and adjustment code
    (or None): one prepared statement, where select_related() of the same cost 3 ms of Python to compile and
    read (a fifth of a grid). The grid and the claim screen read their claims here."""
    statement, (read_claim, read_program, read_membership, read_member, read_type, read_code) = _claims_statement()
    found = {}
    ids = [pk for pk in ids if 0 < pk < BIGINT_END]  # a number past bigint (a hand-typed URL) is no claim
    for row in sql.run(statement, [ids]):
        claim, membership, program = read_claim(row), read_membership(row), read_program(row)
        _MEMBER_LINK.set_cached_value(membership, read_member(row))
        if membership.program_id == program.pk:  # always, but for a claim moved by hand: then read on demand
            _MEMBERSHIP_PROGRAM.set_cached_value(membership, program)
        for link, value in zip(_LINKS, (program, membership, read_type(row), read_code(row)), strict=True):
            link.set_cached_value(claim, value)
        found[claim.pk] = claim
    return found


def attach_lookups(claims):
    """Give each claim its origin, property, owner, submitter and decider, read in three queries for them all."""
    origins = _by_id(ClaimOrigin, {c.origin_id for c in claims if c.origin_id})
    hotels = _by_id(Location, {c.hotel_id for c in claims if c.hotel_id})
    user_ids = {pk for c in claims for pk in (c.owner_id, c.submitted_by_id, c.decided_by_id) if pk}
    users = _by_id(get_user_model(), user_ids, USER_FIELDS)
    for claim in claims:
        claim.origin = origins.get(claim.origin_id)
        claim.hotel = hotels.get(claim.hotel_id)
        claim.owner = users.get(claim.owner_id)
        claim.submitted_by = users.get(claim.submitted_by_id)
        claim.decided_by = users.get(claim.decided_by_id)
    return claims


def _day(value):
    return value.isoformat() if value else ""


def _text(value):
    return escape(value) if value else ""


# Each choice's label, escaped once: get_FOO_display() builds the field's choices dict on every call.
def _labels(field_name):
    return {value: escape(str(label)) for value, label in MembershipClaim._meta.get_field(field_name).flatchoices}


STATUS, RECORD_TYPE, SOURCE = _labels("status"), _labels("record_type"), _labels("source")
DECISION = {**_labels("decision"), ClaimDecision.NONE: ""}


def _shown(labels, value):
    return labels[value] if value in labels else _text(value)  # a value no choice names, as get_FOO_display shows it


def _row(claim, claim_url, member_url):
    member = claim.membership.member
    reply = _day(claim.reply_by)
    if claim.overdue:
        css, reply = "table-danger", f'{reply} <span class="badge text-bg-danger">overdue</span>'
    elif claim.due_today:
        css, reply = "table-warning", f'{reply} <span class="badge text-bg-warning">today</span>'
    else:
        css = ""
    badge = "text-bg-secondary" if claim.status == ClaimStatus.CLOSED else "text-bg-primary"
    link = claim_url.replace("0/", f"{claim.pk}/")
    profile = member_url.replace(PLACEHOLDER, quote(member.member_number))
    cells = [
        reply, _text(claim.program.name), _text(claim.membership.membership_number),
        f'<a href="{escape(profile)}">{_text(member.full_name)}</a>',
        f'<span class="badge {badge}">{_shown(STATUS, claim.status)}</span>',
        _text(claim.claim_type.code), _day(claim.closed_on), _shown(RECORD_TYPE, claim.record_type),
        _text(claim.hotel.code if claim.hotel else ""), _text(claim.property_reservation_number),
        _text(claim.central_reservation_number), _day(claim.arrival_date), _day(claim.departure_date),
        _text(claim.owner.username if claim.owner else ""),
        _text(claim.submitted_by.username if claim.submitted_by else ""),
        _shown(SOURCE, claim.source), _text(claim.origin.label if claim.origin else ""),
        _shown(DECISION, claim.decision),
    ]  # fmt: skip
    return (
        f'<tr class="{css}"><td class="sticky-first"><a href="{link}" class="claim-link">{claim.pk}</a></td>'
        f"<td>{_day(claim.claim_date)}</td><td>{_text(claim.caller_name)}</td><td>"
        + "</td><td>".join(cells)
        + "</td></tr>"
    )


PLACEHOLDER = "MEMBER-NUMBER"


def grid_rows(claims):
    """The <tr> rows of a page of claims (with `overdue` and `due_today` set, and their lookups attached).

    Every value from the database is escaped; the rest is this module's own markup.
    """
    claim_url = reverse("claim-detail", args=[0])
    member_url = reverse("member-profile", args=[PLACEHOLDER])
    return mark_safe("".join(_row(claim, claim_url, member_url) for claim in claims))  # noqa: S308 - values escaped
