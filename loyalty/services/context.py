"""Everything post_activity() reads, in one hand-written query (loyalty.sql) compiled once per process.

The rules in force on the date (with their set, tier and location), the
member's tier on that date, and an activity already posted under the same
reference. The ORM would rebuild this SQL on every call, which costs more
than running it; rows are turned into model instances with Django's own
field converters, so values are exactly what a queryset would give.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections

from loyalty import valuation
from loyalty.models import Activity
from loyalty.sql import posting_context_statement, run


@dataclass
class PostingContext:
    in_force: valuation.RuleSetInForce | None
    tier: object
    existing_id: int | None


_instances = {}
_MAX_MEMOISED = 512


def posting_context(*, membership, day, source="", external_reference=""):
    """Rules, set, tier and existing activity for posting on `day` (falls back to the ORM when a set has no rules)."""
    compiled = posting_context_statement(with_reference=bool(external_reference))
    ops = connection.ops
    day_value = ops.adapt_datefield_value(day)
    params = [membership.pk, day_value, day_value]
    if external_reference:
        params += [membership.pk, source, external_reference]
    params += [membership.program_id, day_value, day_value]
    rows = run(compiled.sql, params)
    if not rows:
        existing = None
        if external_reference:
            existing = (
                Activity.objects.filter(
                    membership_id=membership.pk, source=source, external_reference=external_reference
                )
                .values_list("pk", flat=True)
                .first()
            )
        in_force = valuation.rule_set_in_force(membership.program_id, day) if existing is None else None
        return PostingContext(in_force, valuation.tier_on(membership, day) if in_force else None, existing)

    conn = connections[DEFAULT_DB_ALIAS]
    end = compiled.rules_end
    in_force = _memoised(("rules", conn.alias, *(row[:end] for row in rows)), _read_rules, compiled, rows, conn)
    tier_key = ("tier", conn.alias, rows[0][compiled.member_tier])
    member_tier = _memoised(tier_key, _read_member_tier, compiled, rows, conn)
    existing_id = rows[0][-1] if external_reference else None
    return PostingContext(in_force, member_tier, existing_id)


def _memoised(key, read, compiled, rows, conn):
    """The instances these exact column values give, built once per process.

    The rules are read from the database on every post; only turning the same values into the
    same model instances again (most of the Python time of a post) is skipped. Any change to a
    rule, its set, a tier or a location changes the values, hence the key. The instances are
    shared between posts and only ever read.
    """
    found = _instances.get(key)
    if found is None:
        if len(_instances) >= _MAX_MEMOISED:
            _instances.clear()
        found = _instances[key] = read(compiled.readers, rows, conn)
    return found


def _read_rules(readers, rows, conn):
    read_rule, read_set, read_tier, read_location, _ = readers
    rule_set = read_set(rows[0], conn)  # the same on every row
    rules = []
    for row in rows:
        rule = read_rule(row, conn)
        rule.rule_set, rule.tier, rule.location = rule_set, read_tier(row, conn), read_location(row, conn)
        rules.append(rule)
    return valuation.RuleSetInForce(rule_set, rules)


def _read_member_tier(readers, rows, conn):
    return readers[-1](rows[0], conn)
