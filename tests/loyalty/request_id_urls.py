"""A page that logs and queues a task that logs: what the request id tests follow."""

import logging

from celery import shared_task
from django.db import transaction
from django.http import HttpResponse
from django.urls import path

from loyalty.background import queue_task

logger = logging.getLogger("tests.request_id")


@shared_task(name="tests.log_from_task")
def log_from_task(what):
    logger.warning("the task ran for %s", what)


def queue_and_log(request):
    with transaction.atomic():
        logger.warning("the page queued a task")
        queue_task("tests.log_from_task", "member 42")
    return HttpResponse("queued")


urlpatterns = [path("queue-and-log/", queue_and_log)]
