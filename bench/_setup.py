"""Shared start-up for benchmark scripts: Django on a dedicated PostgreSQL database.

Every script under bench/ named bench_*.py does:

    from _setup import django_on_bench_db, report
    django_on_bench_db()          # before importing any model

and prints its figures through report(...). The database is BENCH_DATABASE_URL
when set, else a loyalty_bench database on the embedded PostgreSQL in .pgdata/
(the server make run and make test use), created and migrated when missing.
Generated data is kept between runs when a script finds it already there, so a
second run is quick.
"""

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "loyalty_bench"


def fresh_database(suffix):
    """A database of its own for one benchmark, dropped and made again each run (loyalty_bench_<suffix>,
    or BENCH_DATABASE_URL's name + "_<suffix>"): a benchmark that posts to the append-only ledger starts clean.
    Call before django_on_bench_db(), which creates and migrates it.
    """
    global BENCH_DATABASE
    import psycopg
    from psycopg import sql

    name = f"loyalty_bench_{suffix}"
    if os.environ.get("BENCH_DATABASE_URL"):
        base, _, options = os.environ["BENCH_DATABASE_URL"].partition("?")
        server, _, old = base.rpartition("/")
        name = f"{old}_{suffix}"
        os.environ["BENCH_DATABASE_URL"] = f"{server}/{name}" + (f"?{options}" if options else "")
        admin = f"{server}/postgres"
    else:
        sys.path.insert(0, str(ROOT))
        from loyalty.embedded_database import database_url

        admin = database_url("postgres")
        BENCH_DATABASE = name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def django_on_bench_db():
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        _create_database(url)
    else:
        from loyalty.embedded_database import database_url

        url = database_url(BENCH_DATABASE)  # starts the embedded server, creates the database when missing
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
    # As deployed: DEBUG off (no query log, no debug-only work in the measured code).
    os.environ.setdefault("DEBUG", "false")
    # Eager Celery: benchmarks measure the code, not a broker.
    os.environ.pop("REDIS_URL", None)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from loyalty.startup import freeze_loaded_objects

    freeze_loaded_objects()  # as loyalty.wsgi does when a server process starts: the pages are measured in this one


def _create_database(url):
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def shown(value):
    """A value as report() prints it: floats with one decimal, ints with thousands separators, the rest as is."""
    return f"{value:,.1f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else str(value)


def report(label, value, unit="", note="", *, floor=None, floor_label=None, target=None, ok=None, chart=None):
    """One figure, one line: `label: value unit (note)`; run_all.py copies these lines.

    The keywords are the figure's structured data, which the line does not change: floor, a number in the same
    unit measured in the same run; floor_label, what the floor is, in a few words; target, a short text
    ("≥ 0.5× the floor", "< 50 ms"); ok, True / False / None, the verdict against the target; chart, a series
    name shared by figures drawn in one chart (the same measure at 1× and 10×, the latencies of one page).
    Each call also goes to the file BENCH_FIGURES names, when set: run_all.py's table and charts.
    """
    line = f"- {label}: {shown(value)}{(' ' + unit) if unit else ''}{f' ({note})' if note else ''}"
    print(line, flush=True)
    record(label, value, unit, note=note, floor=floor, floor_label=floor_label, target=target, ok=ok, chart=chart)
    return line


def record(label, value, unit="", *, note="", floor=None, floor_label=None, target=None, ok=None, chart=None):
    """A figure's structured data alone, printing nothing (report() for the keywords): one JSON object appended
    to the file BENCH_FIGURES names; nothing when it is unset. For figures printed otherwise (a table's rows)."""
    path = os.environ.get("BENCH_FIGURES")
    if not path:
        return
    figure = {
        "label": str(label),
        "value": value,
        "unit": unit,
        "floor": floor,
        "floor_label": floor_label,
        "target": target,
        "ok": None if ok is None else bool(ok),
        "chart": chart,
        "note": note,
    }
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(figure, ensure_ascii=False, default=str) + "\n")


@contextmanager
def timed():
    """with timed() as t: ...; t() -> seconds elapsed."""
    start = time.perf_counter()
    elapsed = [None]
    yield lambda: elapsed[0] if elapsed[0] is not None else time.perf_counter() - start
    elapsed[0] = time.perf_counter() - start
