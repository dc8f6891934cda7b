"""Parse rows in a background thread while the database writes the previous chunk (Python and SQL overlap)."""

import gc
import json
import queue
import sys
import threading
from contextlib import contextmanager

from django.core.exceptions import ValidationError

from retro.imports.limits import MAX_REPORTED_VALUE
from retro.imports.rows import RowRejected, unstorable_free

_DONE = object()
# What parsing one row may raise about its values, beyond RowRejected: reported as that row's error.
ROW_ERRORS = (ValidationError, ArithmeticError, ValueError, TypeError, UnicodeError)
# How often (seconds) a thread waiting for the GIL may take it from a running one. At Python's 5 ms
# default, each return of the writing thread from the database (COPY sends its data in many blocks)
# waits behind the parser for up to 5 ms, and the server sits idle: the import ran at 60 % speed.
_SWITCH_INTERVAL = 0.0005
# Allocations between two young-generation collections. Each parsed row allocates a dozen objects
# and creates no reference cycle; at the default 700, collections took a tenth of the parsing time.
_GC_YOUNG_THRESHOLD = 50_000


_tuning_lock = threading.Lock()
_tuning = {"imports": 0, "saved": None}


@contextmanager
def _interpreter_tuned_for_imports():
    """Shorter GIL switches and rarer young collections while any import of this process runs.

    Both settings belong to the whole process: the first import to start saves them and the
    last one to finish puts them back, so two overlapping imports cannot leave them changed.
    """
    with _tuning_lock:
        if _tuning["imports"] == 0:
            interval, thresholds = sys.getswitchinterval(), gc.get_threshold()
            _tuning["saved"] = (interval, thresholds)
            sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
            gc.set_threshold(max(thresholds[0], _GC_YOUNG_THRESHOLD), *thresholds[1:])
        _tuning["imports"] += 1
    try:
        yield
    finally:
        with _tuning_lock:
            _tuning["imports"] -= 1
            if _tuning["imports"] == 0:
                interval, thresholds = _tuning["saved"]
                sys.setswitchinterval(interval)
                gc.set_threshold(*thresholds)


class Chunk:
    """One chunk ready to write: the writer's payload of pool rows and their count, member rows, rejected rows.

    `members` are (row number, values, original) of the rows carrying a membership number: they are
    posted to the member, and a problem found then (an unknown number) is reported with the original.
    """

    __slots__ = ("prepared", "good", "members", "bad")

    def __init__(self, prepared, good, bad, members=()):
        self.prepared, self.good, self.bad, self.members = prepared, good, bad, members


def error_entry(number, reason, original, field=""):
    """One rejected row for the batch and its report: {row, field, reason, original}.

    Only what jsonb can store and a page can show goes in: NUL characters and lone surrogates
    become U+FFFD, long values are cut.
    """
    # [column, value] pairs, not a dict: PostgreSQL's jsonb would lose the file's column order.
    if isinstance(original, dict):
        original = [[_reportable(column), _reportable(value)] for column, value in original.items()]
    elif isinstance(original, list):
        original = [_reportable(value) for value in original]
    return {"row": number, "field": _reportable(field), "reason": _reportable(reason), "original": original}


def _reportable(value):
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list):
        return [_reportable(item) for item in value]
    text = unstorable_free(value if isinstance(value, str) else json.dumps(value, default=str))
    return text if len(text) <= MAX_REPORTED_VALUE else text[:MAX_REPORTED_VALUE] + "…"


def unreadable_reason(exc):
    """A row error for an exception no check foresaw: its message when it has one a person can read."""
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    message = str(exc)
    if not message or message.startswith("[<class"):  # decimal's signals print as a list of classes
        return f"the row could not be read ({type(exc).__name__})"
    return f"the row could not be read: {message}"


def _chunks(parser, writer, records, chunk_size):
    good, members, bad = [], [], []
    parse = parser.parse
    for number, raw, original in records:
        if isinstance(raw, RowRejected):
            bad.append(error_entry(number, raw.reason, original, raw.field))
        else:
            try:
                values = parse(raw)
            except RowRejected as exc:
                bad.append(error_entry(number, exc.reason, original, exc.field))
            except ROW_ERRORS as exc:
                # A value no check foresaw (decimal's InvalidOperation, a date past the calendar):
                # still this row's problem, never the whole file's.
                bad.append(error_entry(number, unreadable_reason(exc), original))
            else:
                if "membership_number" in values:
                    members.append((number, values, original))
                else:
                    good.append(values)
        if len(good) + len(members) + len(bad) >= chunk_size:
            yield Chunk(writer.prepare(good) if good else None, len(good), bad, members)
            good, members, bad = [], [], []
    if good or members or bad:
        yield Chunk(writer.prepare(good) if good else None, len(good), bad, members)


def parsed_chunks(parser, writer, records, chunk_size, *, depth=2):
    """Yield Chunks produced by a parsing thread; at most `depth` wait, so memory stays bounded.

    The parser and writer.prepare() touch no database, so the thread needs no connection of its own
    and the caller's transaction sees every write.
    """
    handoff = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce():
        try:
            for chunk in _chunks(parser, writer, records, chunk_size):
                while not stop.is_set():
                    try:
                        handoff.put(chunk, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            handoff.put(exc)

    thread = threading.Thread(target=produce, name="retro-import-parser", daemon=True)
    with _interpreter_tuned_for_imports():
        thread.start()
        try:
            while True:
                item = handoff.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=5)
