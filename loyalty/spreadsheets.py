"""CSV files that staff open in a spreadsheet: read as UTF-8, and no cell that runs as a formula.

Excel reads a UTF-8 file as UTF-8 (Zoë, not ZoÃ«) only when it starts with a byte order mark,
and runs a cell starting with =, +, -, @ (or a TAB or CR before one) as a formula: a leading
quote keeps such text text. Numbers stay numbers, a signed one like -12.50 included.
"""

import csv
import re
from decimal import Decimal

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def safe_cell(value):
    """A value as a spreadsheet should show it: numbers as numbers, text that would run as a formula quoted."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return f"'{text}"
    return text


class _Echo:
    """A write-only file for csv.writer: each row goes straight into a streaming response."""

    def write(self, value):
        return value


def csv_lines(header, rows):
    """The lines of a spreadsheet-safe CSV file, one at a time, to stream: the header, then each row's cells."""
    writer = csv.writer(_Echo())
    yield BOM
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])
