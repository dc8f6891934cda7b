"""Celery application; tasks live in each app's tasks.py and are thin."""

import os

from celery import Celery
from celery.signals import beat_init
from celery.utils.log import get_logger

# Connects the signals that carry a web request's id into its tasks' log lines, in every worker.
from loyalty import request_id  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")

app = Celery("loyalty")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = get_logger(__name__)


@beat_init.connect
def _log_beat_schedule(sender, **kwargs):
    # Beat says nothing at INFO level about what it loaded, and DatabaseScheduler loads only the
    # crontab entries due within a couple of hours. One line at start-up shows that beat is up
    # and every periodic task it will send (they are edited in Django admin, Periodic tasks).
    model = getattr(sender.scheduler, "Model", None)  # django-celery-beat's PeriodicTask
    if model is not None:
        tasks = [f"{task.name} ({task.task}, {task.scheduler})" for task in model.objects.enabled()]
    else:
        tasks = [f"{entry.name} ({entry.task}, {entry.schedule})" for entry in sender.scheduler.schedule.values()]
    logger.info("beat: %d periodic task(s) enabled: %s", len(tasks), "; ".join(tasks) or "none")
