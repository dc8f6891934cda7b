"""Lookups the ORM lacks, used as expressions in filter(): `Model.objects.filter(AnyOf(F("pk"), subquery))`."""

from django.db.models import Lookup


class AnyOf(Lookup):
    """`column = ANY(ARRAY(subquery))`: the subquery runs once and its few ids are fetched by index.

    `column IN (subquery)` lets the planner hash-join the whole table against it instead, which it prefers
    for a table of tens of thousands of rows (every member's portal login, for fifty staff).
    """

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)  # a subquery comes in parentheses
        return f"{lhs} = ANY(ARRAY{rhs})", [*lhs_params, *rhs_params]
