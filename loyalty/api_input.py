"""What the REST APIs refuse before a view sees it: JSON nested too deep, a body over the upload limit.

Python's JSON decoder recurses once per level: ten thousand nested arrays raise RecursionError, which
DRF's JSONParser does not catch (a 500). A few hundred levels parse, then break whatever walks the data
next (a serializer, json.dumps of the idempotency fingerprint). No request of ours nests more than a
handful of levels, so anything past MAX_JSON_DEPTH is a 400.

A body over DATA_UPLOAD_MAX_MEMORY_SIZE makes Django raise RequestDataTooBig when DRF reads it; DRF
does not handle it, and Django answers with an empty HTML 400. The API answers 413 in JSON, saying why.

An error message may quote what was sent ('"x\ud800" is not a valid choice.'): a lone surrogate has
no UTF-8 form, so DRF's renderer failed on its own 400 with a 500. The renderer shows it as U+FFFD.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from loyalty.text import storable

MAX_JSON_DEPTH = 32


def too_deep(data, limit=MAX_JSON_DEPTH):
    """Whether parsed JSON nests lists and objects deeper than `limit`; walked without recursion."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        pending.extend((item, depth + 1) for item in value if isinstance(item, dict | list))
    return False


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSONParser, refusing JSON nested deeper than MAX_JSON_DEPTH with a 400 instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = f"JSON parse error - the body is nested more than {MAX_JSON_DEPTH} levels deep."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message)
        if too_deep(data):
            raise ParseError(message)
        return data


def api_exception_handler(exc, context):
    """DRF's handler, plus a readable 413 for a body over DATA_UPLOAD_MAX_MEMORY_SIZE."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is too large: at most {limit:,} bytes are read. Send smaller batches."
        return Response({"detail": detail}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return exception_handler(exc, context)


class ReadableJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, writing a lone surrogate in the data (quoted from a request) as U+FFFD."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(storable(data), accepted_media_type, renderer_context)
