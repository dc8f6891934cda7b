"""Pagination that never counts a whole table: it counts at most `cap` + 1 rows and shows more as "1,000+"."""

from collections.abc import Sequence
from contextlib import contextmanager
from functools import cached_property
from math import ceil

from django.core.paginator import Paginator
from django.db import connection, transaction

DEFAULT_CAP = 1000


class CappedPaginator(Paginator):
    """A Paginator whose count reads at most `cap` + 1 rows (a bounded COUNT over a LIMIT subquery).

    Below the cap everything is as with Django's Paginator ("Page 2 of 3", "57 in all"). Above it
    the count is `cap` + 1, `capped` is true, the pages stop at the cap (pages deeper than the first
    `cap` rows would cost an OFFSET that grows with the table) and templates say "1,000+": a list
    that long is narrowed with its filters, not paged through. `pagination.html` shows both cases.

    For a queryset, two options:

    - `rows`: the same rows with what the page shows (joins, annotations). A page then reads its ids
      from `object_list` (the filters and the sort alone), then its rows from `rows` by id: the
      database sorts bare rows and joins only the page's. A queryset, or a function of the ids
      returning {id: row} (a prepared statement's reader, for the hottest pages).
    - `narrow`: when no more than `cap` rows match, the pages choose among those (the count's own
      LIMIT subquery), so a page sorts at most `cap` rows. Without it the database may walk a sort's
      index past most of the table for a small list whose rows are all at the far end (the newest,
      the oldest), not knowing they are. Leave it off when an index serves the filter and the sort.
    """

    def __init__(self, object_list, per_page, *, cap=DEFAULT_CAP, rows=None, narrow=False, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.rows = rows
        self.narrow = narrow

    @cached_property
    def count(self):
        if self._is_queryset:
            # Ids only, no ORDER BY: the count reads the filter's cheapest index and stops after cap + 1 rows.
            return self._matches().count()
        return min(len(self.object_list), self.cap + 1)

    @property
    def capped(self):
        """True when more rows match than the pages reach."""
        return self.count > self.cap

    @property
    def count_label(self):
        """ "57" or "1,000+": the count as a list's heading says it."""
        return f"{self.cap:,}+" if self.capped else f"{self.count:,}"

    @property
    def reachable(self):
        """How many rows the pages show: all of them, or the first `cap`."""
        return min(self.count, self.cap)

    @cached_property
    def num_pages(self):
        if self.reachable == 0 and not self.allow_empty_first_page:
            return 0
        return ceil(max(1, self.reachable - self.orphans) / self.per_page)

    def page(self, number):
        # Django's, with the last page ending at the cap rather than at the (cap + 1) count.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.reachable:
            top = self.reachable
        return self._get_page(self._slice(bottom, top), number, self)

    @property
    def _is_queryset(self):
        return hasattr(self.object_list, "values")

    def _matches(self):
        return self.object_list.order_by().values("pk")[: self.cap + 1]

    def _slice(self, bottom, top):
        if not self._is_queryset:
            return self.object_list[bottom:top]
        ordered = self.object_list
        if self.narrow and not self.capped:
            ordered = ordered.filter(pk__in=self._matches())
        if self.rows is None:
            return ordered[bottom:top]
        return RowsById(list(ordered.values_list("pk", flat=True)[bottom:top]), self.rows)[:]


class RowsById(Sequence):
    """Rows known by their ids in list order: len() costs no query, a slice fetches its rows by primary key.

    For a list whose ids one query has already found and ordered: the paginator counts the ids and
    each page reads only its own rows, in the ids' order.
    """

    def __init__(self, ids, queryset):
        self.ids = ids
        self.queryset = queryset  # or a function of a list of ids returning {id: row}

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            ids = self.ids[index]
            read = self.queryset if callable(self.queryset) else self.queryset.in_bulk
            rows = read(ids) if ids else {}
            return [rows[pk] for pk in ids if pk in rows]
        return self[index : index + 1][0]


@contextmanager
def serial_plans():
    """Run the queries inside without parallel workers (one transaction, SET LOCAL).

    A page reads a few rows in an index's order, stopping at its LIMIT. A parallel plan splits that
    walk between processes that each run far ahead before the merge stops them: measured on a
    million claims, a page sorted by member took 0.9 s in parallel and 16 ms in one process.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield

