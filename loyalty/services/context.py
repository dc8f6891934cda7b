"""Everything post_activity() reads, in one hand-written query compiled once per process.

The rules in force on the date (with their set, tier and location), the
member's tier on that date, and an activity already posted under the same
reference. The ORM would rebuild this SQL on every call, which costs more
than running it; rows are turned into model instances with Django's own
field converters, so values are exactly what a queryset would give.
"""

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections

from loyalty import valuation
from loyalty.models import Activity, EarningRule, EarningRuleSet, Location, Tier, TierPeriod
from loyalty.rawsql import row_reader, run


@dataclass
class PostingContext:
    in_force: valuation.RuleSetInForce | None
    tier: object
    existing_id: int | None


# (alias, model) in the order their columns are selected.
_PARTS = [("r", EarningRule), ("rs", EarningRuleSet), ("t", Tier), ("l", Location), ("mt", Tier)]
_compiled = {}


def posting_context(*, membership, day, source="", external_reference=""):
    """Rules, set, tier and existing activity for posting on `day` (falls back to the ORM when a set has no rules)."""
    sql, readers = _compiled_for(connection.vendor, bool(external_reference))
    ops = connection.ops
    day_value = ops.adapt_datefield_value(day)
    params = [membership.pk, day_value, day_value]
    if external_reference:
        params += [membership.pk, source, external_reference]
    params += [membership.program_id, day_value, day_value]
    rows = run(sql, params)
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

    # The set and the member's tier are the same on every row: read them once.
    conn = connections[DEFAULT_DB_ALIAS]
    read_rule, read_set, read_tier, read_location, read_member_tier = readers
    rule_set, member_tier = read_set(rows[0], conn), read_member_tier(rows[0], conn)
    rules = []
    for row in rows:
        rule = read_rule(row, conn)
        rule.rule_set, rule.tier, rule.location = rule_set, read_tier(row, conn), read_location(row, conn)
        rules.append(rule)
    existing_id = rows[0][-1] if external_reference else None
    return PostingContext(valuation.RuleSetInForce(rule_set, rules), member_tier, existing_id)


def _compiled_for(vendor, with_reference):
    key = (vendor, with_reference)
    if key not in _compiled:
        _compiled[key] = _compile(with_reference)
    return _compiled[key]


def _compile(with_reference):
    qn = connection.ops.quote_name
    columns, readers, offset = [], [], 0
    for alias, model in _PARTS:
        fields = list(model._meta.concrete_fields)
        columns += [f"{alias}.{qn(field.column)}" for field in fields]
        readers.append(row_reader(model, fields, offset))
        offset += len(fields)
    period = (
        f"SELECT tier_id FROM {qn(TierPeriod._meta.db_table)} WHERE membership_id = %s AND valid_from <= %s"
        " AND (valid_to IS NULL OR valid_to >= %s) LIMIT 1"
    )
    joins = [
        f"JOIN {qn(EarningRuleSet._meta.db_table)} rs ON rs.id = r.rule_set_id",
        f"LEFT JOIN {qn(Tier._meta.db_table)} t ON t.id = r.tier_id",
        f"LEFT JOIN {qn(Location._meta.db_table)} l ON l.id = r.location_id",
        f"LEFT JOIN ({period}) mp ON 1 = 1",
        f"LEFT JOIN {qn(Tier._meta.db_table)} mt ON mt.id = mp.tier_id",
    ]
    if with_reference:
        already = (
            f"SELECT id FROM {qn(Activity._meta.db_table)} WHERE membership_id = %s AND source = %s"
            " AND external_reference = %s LIMIT 1"
        )
        joins.append(f"LEFT JOIN ({already}) ex ON 1 = 1")
        columns.append("ex.id")
    sql = (
        f"SELECT {', '.join(columns)} FROM {qn(EarningRule._meta.db_table)} r {' '.join(joins)}"
        " WHERE rs.program_id = %s AND rs.valid_from <= %s AND (rs.valid_to IS NULL OR rs.valid_to >= %s)"
        " ORDER BY r.id"
    )
    return sql, readers
