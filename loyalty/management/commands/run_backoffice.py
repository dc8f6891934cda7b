"""manage.py run_backoffice: the web server, a Celery worker and Celery beat in one terminal (make run)."""

import os
import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

# Seconds the worker may take to finish its running tasks after Ctrl-C before it is stopped cold,
# then seconds any process may take to go before its whole process group is killed.
WARM_SHUTDOWN_SECONDS = 10
KILL_AFTER_SECONDS = 10


def _parent_death_signal():
    """A preexec_fn asking Linux to send the child SIGINT should this launcher be killed outright (SIGKILL),
    so nothing is left running unsupervised; None elsewhere. Looked up here: a forked child must not import."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGINT)  # 1 = PR_SET_PDEATHSIG


class Child:
    """One supervised process, leader of its own process group so that signals reach its children too."""

    def __init__(self, name, argv, *, stop_signal, cold_signal=None, stop_group):
        self.name, self.argv, self.stop_group = name, argv, stop_group
        self.stop_signal, self.cold_signal = stop_signal, cold_signal or stop_signal
        self.process = None

    def start(self, preexec_fn):
        self.process = subprocess.Popen(
            self.argv,
            cwd=settings.BASE_DIR,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},  # lines arrive as they are printed
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            # Its own process group: Ctrl-C reaches only this launcher, which stops each child in its
            # own way, and a signal sent to the group reaches the autoreloader's server and Celery's pool.
            process_group=0,
            preexec_fn=preexec_fn,
        )

    def copy_output(self, out):
        for line in self.process.stdout:
            out(f"{self.name:<6} | {line.rstrip()}")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, cold=False):
        """Ask the child to stop: the whole group for runserver, only Celery's main process, which then
        stops its pool itself (a pool process signalled directly would drop the task it runs)."""
        signum = self.cold_signal if cold else self.stop_signal
        if self.stop_group:
            self.signal_group(signum)
        elif self.running():
            self.process.send_signal(signum)

    def signal_group(self, signum):
        """Send signum to the child's process group; False when nothing of the group is left."""
        if self.process is None:
            return False
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True


class Command(BaseCommand):
    help = (
        "Serve the back office with runserver and run a Celery worker and Celery beat beside it; "
        "Ctrl-C stops all of them, and when one of them stops the others are stopped too (exit code 1)."
    )
    requires_system_checks = []  # runserver and the worker run their own

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="Where runserver listens.")
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes (default 2).")
        parser.add_argument("--noreload", action="store_true", help="Do not restart the web server on code changes.")

    def handle(self, *args, addrport, concurrency, noreload, **options):
        python, manage = sys.executable, str(settings.BASE_DIR / "manage.py")
        celery = [python, "-m", "celery", "-A", "loyalty"]
        runserver = [python, manage, "runserver", addrport, *(["--noreload"] if noreload else [])]
        worker = [*celery, "worker", "--loglevel=info", f"--concurrency={concurrency}"]
        beat = [*celery, "beat", "--loglevel=info", f"--scheduler={settings.CELERY_BEAT_SCHEDULER}"]
        children = [
            # SIGINT to the group: runserver and its autoreloader leave as on Ctrl-C in a terminal.
            Child("web", runserver, stop_signal=signal.SIGINT, stop_group=True),
            # SIGTERM is Celery's warm shutdown, which lets the running tasks finish; SIGQUIT its cold one.
            Child("worker", worker, stop_signal=signal.SIGTERM, cold_signal=signal.SIGQUIT, stop_group=False),
            Child("beat", beat, stop_signal=signal.SIGTERM, stop_group=False),
        ]

        received = []  # signals, acted upon by the loops below rather than inside the handler

        def on_signal(signum, frame):
            received.append(signum)

        # Installed before the children start: they then begin with the default handlers, even when
        # this launcher was started with SIGINT ignored (as `make run &` does).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, on_signal)

        broker = "Redis" if settings.REDIS_URL else "PostgreSQL, kombu's SQLAlchemy transport"
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        lock = threading.Lock()

        def out(line):
            with lock:
                self.stdout.write(line)
                self.stdout.flush()

        out(f"Back office on http://{host}/ with a Celery worker and beat (broker: {broker}). Ctrl-C stops them all.")
        # Every child is forked before any output thread exists, so the forks copy no thread's locks.
        preexec_fn = _parent_death_signal()
        for child in children:
            child.start(preexec_fn)
        threads = [threading.Thread(target=child.copy_output, args=(out,), daemon=True) for child in children]
        for thread in threads:
            thread.start()

        exit_code = 0
        while True:
            time.sleep(0.2)
            if received:
                out(f"{signal.Signals(received[0]).name}: stopping the web server, the worker and beat")
                break
            ended = next((child for child in children if not child.running()), None)
            if ended:
                out(f"{ended.name} exited with code {ended.process.returncode}: stopping the others")
                exit_code = 1
                break
        self._stop(children, received, out)
        for thread in threads:
            thread.join(timeout=2)  # what the children said last
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, children, received, out):
        for child in children:
            child.stop()
        seen, escalated = len(received), False
        deadline = time.monotonic() + WARM_SHUTDOWN_SECONDS
        while any(child.running() for child in children):
            time.sleep(0.1)
            again = len(received) > seen  # Ctrl-C once more
            if not again and time.monotonic() < deadline:
                continue
            if escalated:
                break
            escalated, seen = True, len(received)
            deadline = time.monotonic() + KILL_AFTER_SECONDS
            if any(child.running() for child in children):
                out("stopping the worker cold, without waiting for its running tasks; Ctrl-C again kills everything")
            for child in children:
                if child.running():
                    child.stop(cold=True)
        # Whatever is still there, leaders or their children (a server left by its autoreloader,
        # pool processes), is killed: nothing of make run outlives it.
        for child in children:
            if child.running():
                out(f"killing {child.name}")
                child.signal_group(signal.SIGKILL)
            elif child.signal_group(0):
                time.sleep(0.5)  # a moment for stragglers that are on their way out
                child.signal_group(signal.SIGKILL)
            child.process.wait()
