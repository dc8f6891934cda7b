"""The error report of an import: one CSV line per rejected row with its row number, reason and original values."""

import csv

from loyalty.spreadsheets import BOM, safe_cell


def _pairs(original):
    """[column, value] pairs of a row as the file had it, or None for a line that did not fit the header."""
    if isinstance(original, dict):
        return list(original.items())
    if isinstance(original, list) and original and all(isinstance(p, list) and len(p) == 2 for p in original):
        return [tuple(p) for p in original]
    return None


def _columns_of(errors):
    for error in errors:
        pairs = _pairs(error.get("original"))
        if pairs:
            return [column for column, _ in pairs]
    return []


class ErrorReportWriter:
    """Writes rejected rows ({row, reason, original}) to a text stream as CSV: row, reason, original columns."""

    def __init__(self, stream, columns=None):
        self._csv = csv.writer(stream)
        self.columns = list(columns) if columns else None
        self._started = False

    def write(self, errors):
        for error in errors:
            if not self._started:
                if self.columns is None:
                    self.columns = _columns_of([error])
                self._csv.writerow(report_header(self.columns))
                self._started = True
            self._csv.writerow(report_line(error, self.columns))

    def finish(self):
        """Write the header even when there was no error, so the file is never empty."""
        if not self._started:
            self._csv.writerow(report_header(self.columns or []))
            self._started = True


def report_header(columns):
    """The report's first line: the columns are the file's own names, which may read like a formula too."""
    return ["row", "reason", *(safe_cell(column) for column in columns)]


def report_line(error, columns):
    original = error.get("original")
    pairs = _pairs(original)
    if pairs is not None:
        values = dict(pairs)
        cells = [values.get(name, "") for name in columns]
    elif isinstance(original, list):
        cells = original  # a line with the wrong number of cells: written as it came
    else:
        cells = []
    return [error.get("row") or "", safe_cell(error.get("reason", "")), *(safe_cell(cell) for cell in cells)]


class _Echo:
    """A file-like object whose write returns the text, for streaming a CSV response."""

    def write(self, value):
        return value


def error_report_lines(batch):
    """The stored error report of a batch as CSV text lines (for a StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    errors = batch.errors or []
    columns = _columns_of(errors)
    yield BOM + writer.writerow(report_header(columns))
    for error in errors:
        yield writer.writerow(report_line(error, columns))
