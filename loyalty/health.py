"""The health check the load balancer asks: the database, the broker, the outbox, and the parts apps register.

Each part answers (healthy, detail). A part that raises is unhealthy with the error as its detail:
the check must answer 503, never 500, whatever is broken.
"""

import datetime as dt
import logging

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from loyalty import plugins
from loyalty.background import oldest_waiting_since
from loyalty.plugins import HealthPart

logger = logging.getLogger(__name__)


def check_health(names=None):
    """(healthy, {part: {"ok": bool, "detail": str}}) for every registered part, or only those `names`."""
    parts = {}
    for part in plugins.HEALTH_PARTS:
        if names and part.name not in names:
            continue
        try:
            ok, detail = part.check()
        except Exception as error:  # a part that cannot even look is a failing part, named with its error
            ok, detail = False, f"{type(error).__name__}: {error}"
        parts[part.name] = {"ok": bool(ok), "detail": detail}
        if not ok:
            logger.warning("health: %s failing: %s", part.name, detail)
    return all(part["ok"] for part in parts.values()), parts


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return True, "SELECT 1 answered"


def _broker():
    if not settings.REDIS_URL:
        # kombu's SQLAlchemy transport keeps the queue in this same database: the database part covers it.
        return True, "the database is the broker"
    timeout = settings.HEALTH_BROKER_TIMEOUT_SECONDS
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()
    return True, "Redis answered PING"


def _outbox():
    since = oldest_waiting_since()
    if since is None:
        return True, "nothing waiting"
    age = timezone.now() - since
    limit = dt.timedelta(seconds=settings.HEALTH_OUTBOX_MAX_AGE_SECONDS)
    if age > limit:
        return False, (
            f"the oldest waiting message has waited {age.total_seconds():.0f} s, over {limit.total_seconds():.0f} s: "
            "the broker or the relay (beat's loyalty.relay_outbox) is down"
        )
    return True, f"the oldest waiting message has waited {age.total_seconds():.0f} s"


CORE_PARTS = [HealthPart("database", _database), HealthPart("broker", _broker), HealthPart("outbox", _outbox)]
