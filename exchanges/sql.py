"""The exchanges' hand-written SQL: a refund's hot statements, where compiling a queryset costs more than
running its SQL (bench_exchanges). Each is built once per process from the models' `_meta` (no table or
column name written by hand) and runs through loyalty.sql.run, which lets psycopg prepare it on the server.
"""

from django.db import DEFAULT_DB_ALIAS, connections

from exchanges.models import PartnerClient, Redemption, RedemptionTicket, RefundPolicy
from loyalty import sql

# The redemption's program and membership, read with it as select_related would (through its foreign keys).
Program = Redemption._meta.get_field("program").related_model
Membership = Redemption._meta.get_field("membership").related_model
# (alias, model) in the order their columns are selected: the redemption with what a refund reads of it.
_PARTS = [("r", Redemption), ("p", Program), ("rp", RefundPolicy), ("m", Membership), ("t", RedemptionTicket)]
_locks = {}


def _lock_statement(for_partner):
    found = _locks.get(for_partner)
    if found is not None:
        return found
    columns, readers = sql.joined_columns(_PARTS)
    r, p, rp, m, t = (sql.Names(model) for _, model in _PARTS)
    statement = (
        f"SELECT {', '.join(columns)} FROM {r.table} r"
        f" JOIN {p.table} p ON p.{p.pk} = r.{r.program}"
        f" LEFT JOIN {rp.table} rp ON rp.{rp.program} = p.{p.pk}"
        f" JOIN {m.table} m ON m.{m.pk} = r.{r.membership}"
        f" JOIN {t.table} t ON t.{t.redemption} = r.{r.pk}"
        f" WHERE r.{r.pk} = %s"
    )
    if for_partner:
        # Its own bookings, in the programs it may still use (services.partners_redemptions).
        through = sql.Names(PartnerClient.programs.through)
        statement += (
            f" AND r.{r.partner} = %s AND EXISTS (SELECT 1 FROM {through.table} pp"
            f" WHERE pp.{through.partnerclient} = %s AND pp.{through.program} = r.{r.program})"
        )
    # Both the redemption and its tickets are locked: a refund that waited for another's lock reads the
    # tickets as that one left them (a single statement sees later commits only in the rows it locks).
    found = _locks[for_partner] = (statement + " FOR UPDATE OF r, t", readers)
    return found


def locked_with_tickets(*, redemption_id, partner=None):
    """(redemption, its tickets in number order), row-locked; the redemption's program (with its refund policy)
    and membership read with it. Raises Redemption.DoesNotExist for none or, with `partner`, another partner's
    or one outside the partner's programs."""
    statement, (read_r, read_p, read_policy, read_m, read_t) = _lock_statement(partner is not None)
    params = [redemption_id] if partner is None else [redemption_id, partner.pk, partner.pk]
    rows = sql.run(statement, params)
    if not rows:
        raise Redemption.DoesNotExist("No such redemption.")
    conn = connections[DEFAULT_DB_ALIAS]
    first = rows[0]
    redemption, program, membership = read_r(first, conn), read_p(first, conn), read_m(first, conn)
    Program._meta.get_field("refund_policy").set_cached_value(program, read_policy(first, conn))
    Redemption._meta.get_field("program").set_cached_value(redemption, program)
    Redemption._meta.get_field("membership").set_cached_value(redemption, membership)
    tickets = sorted((read_t(row, conn) for row in rows), key=lambda ticket: ticket.ticket_number)
    for ticket in tickets:
        RedemptionTicket._meta.get_field("redemption").set_cached_value(ticket, redemption)
    return redemption, tickets


_TICKETS_REFUNDED = None


def points_refunded_update(tickets):
    """The tickets' points_refunded written along with the refund's change of state (lifecycle.transition's
    `along`: only when the change is made), one statement however many tickets."""
    global _TICKETS_REFUNDED
    if _TICKETS_REFUNDED is None:
        t = sql.Names(RedemptionTicket)
        # The changed booking's tickets by its index, each one's value looked up in the arrays: planned once
        # for good. Joined to unnest(the arrays) instead, the planner could not know their length, guessed
        # ten rows, and found a plan for those values cheaper every time: it planned the refund's whole
        # statement again on every refund.
        _TICKETS_REFUNDED = (
            f"UPDATE {t.table} t SET {t.points_refunded} = (%s::integer[])[array_position(%s::bigint[], t.{t.pk})]"
            f" FROM changed WHERE t.{t.redemption} = changed.id AND t.{t.pk} = ANY(%s::bigint[])"
        )
    ids = [ticket.pk for ticket in tickets]
    return sql.Along(_TICKETS_REFUNDED, [[ticket.points_refunded for ticket in tickets], ids, ids])
