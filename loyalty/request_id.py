"""One id per web request, carried into every log line it causes: its own and those of the Celery tasks it queues.

The middleware takes the caller's X-Request-ID (a proxy or the partner's own id) or makes one, and keeps
it in a context variable for the request; RequestIdFilter writes it on every log record. queue_task()
stores it with the outbox message, the relay sends it as a message header, and task_prerun puts it back
in the worker, so `grep <id>` finds the request and everything it set off.
"""

import contextvars
import json
import logging
import re
import time
import uuid

from celery.signals import after_setup_logger, after_setup_task_logger, before_task_publish, task_postrun, task_prerun
from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver

HEADER = "X-Request-ID"
CELERY_HEADER = "request_id"
NONE = "-"
# A caller's id is kept only when it is short and plain: it goes into log lines and a response header.
ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,100}$")

_current = contextvars.ContextVar("request_id", default="")
_task_tokens = {}  # task id -> the token that restores the id from before the task (eager tasks nest)


def current():
    """The id of the request or task running now, or "" outside both."""
    return _current.get()


def new_id():
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give the request an id (the caller's X-Request-ID when acceptable) and answer it in the same header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request.request_id = given if ACCEPTABLE.match(given) else new_id()
        # Kept until request_finished, not reset on the way out: Django logs a 4xx/5xx response
        # ("Forbidden: /…") after the middleware has returned, and that line needs the id too.
        _current.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


@receiver(request_finished, dispatch_uid="loyalty-request-id-finished")
def _forget_request(**kwargs):
    _current.set("")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (a dash outside a request or task), for the formatters to show."""

    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = _current.get() or NONE
        return True


# Attributes every LogRecord has; anything else on a record came from `extra=` and goes into the JSON too.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, the `extra` fields, any traceback."""

    converter = time.gmtime  # log times in UTC, as the data is

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", NONE),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def formatter():
    """The formatter LOG_FORMAT asks for: JSON lines for machines, or plain text with the id in brackets."""
    return JsonFormatter() if settings.LOG_FORMAT == "json" else logging.Formatter(TEXT_FORMAT)


# Celery: the id travels as a message header and is restored around each task.


@before_task_publish.connect(dispatch_uid="loyalty-request-id-publish")
def _send_request_id(headers=None, **kwargs):
    # A task published without an id of its own (beat, a direct apply_async) takes the current one, if any.
    if headers is not None and not headers.get(CELERY_HEADER) and _current.get():
        headers[CELERY_HEADER] = _current.get()


def _request_id_of(task):
    request = task.request
    # A worker merges custom headers into the request; an eager task keeps them in request.headers.
    return getattr(request, CELERY_HEADER, None) or (request.headers or {}).get(CELERY_HEADER) or ""


@task_prerun.connect(dispatch_uid="loyalty-request-id-prerun")
def _restore_request_id(task_id=None, task=None, **kwargs):
    # A task queued by no request (beat's) is known by its own task id.
    _task_tokens[task_id] = _current.set(_request_id_of(task) or _current.get() or task_id or new_id())


@task_postrun.connect(dispatch_uid="loyalty-request-id-postrun")
def _forget_request_id(task_id=None, **kwargs):
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)


@after_setup_logger.connect(dispatch_uid="loyalty-request-id-worker-logs")
@after_setup_task_logger.connect(dispatch_uid="loyalty-request-id-task-logs")
def _format_worker_logs(logger=None, **kwargs):
    # Celery sets up the worker's own handlers (replacing LOGGING's): give them the id and the chosen format.
    for handler in logger.handlers:
        handler.addFilter(RequestIdFilter())
        handler.setFormatter(formatter())
