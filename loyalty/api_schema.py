"""The OpenAPI schema says what every endpoint can answer, including the errors every endpoint shares.

DRF answers 401 (no or bad token), 403 (no permission), 404 (no such object or page), 429 (throttled),
400 (field errors) and 415 (a body in a media type the operation does not take) on its own; documenting
them once here keeps each view's schema about its own outcomes. Refusals of decisions and idempotency keys
are problem-details bodies (RFC 9457), documented under both content types.

Each app declares the links between its operations (loyalty.plugins.add_api_link): what a client can call
next with a value from an answer, e.g. capture a hold by the id its 201 answer gave. Partners read them in
the schema, and schemathesis follows them to test whole booking and claim flows.
"""

from loyalty import plugins

FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each field's messages, or non_field_errors for the request as a whole.",
    "additionalProperties": True,
}
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
STANDARD = {
    "400": ("Field errors: the request is not valid.", FIELD_ERRORS),
    "401": ("No token, or a token that is not valid.", DETAIL),
    "403": ("The token's user may not do this.", DETAIL),
    "404": ("No such object (or page).", DETAIL),
    "429": ("Too many requests: retry after the number of seconds in Retry-After.", DETAIL),
}
UNSUPPORTED_MEDIA_TYPE = ("The body is in a media type the operation does not take (or has none).", DETAIL)
WRITE_METHODS = {"post", "put", "patch", "delete"}
# Refusals answered with a problem-details body (loyalty.lifecycle.api) besides DRF's plain JSON.
PROBLEM_STATUSES = {"400", "403", "409", "422"}


def add_standard_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the errors DRF gives it."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            for status, (description, body) in STANDARD.items():
                if status == "400" and method not in WRITE_METHODS and not operation.get("parameters"):
                    continue
                documented = responses.setdefault(status, {"description": description})
                documented.setdefault("content", {}).setdefault("application/json", {"schema": body})
            if "requestBody" in operation and "415" not in responses:  # an app's own 415 (problem details) stays
                description, body = UNSUPPORTED_MEDIA_TYPE
                responses["415"] = {"description": description, "content": {"application/json": {"schema": body}}}
            for status in PROBLEM_STATUSES & set(responses):
                content = responses[status].setdefault("content", {})
                schema = _first_schema(content) if content else DETAIL
                content.setdefault("application/problem+json", {"schema": schema})
    return result


def _first_schema(content):
    return next(iter(content.values()))["schema"]


def add_links(result, generator, request, public):
    """drf-spectacular post-processing hook: every link the apps declared, on the answer that carries its value."""
    operations = {
        operation["operationId"]: operation
        for path_item in result.get("paths", {}).values()
        for operation in path_item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for link in plugins.API_LINKS:
        response = operations.get(link.operation, {}).get("responses", {}).get(link.status)
        # A schema of fewer endpoints (a user who may not see them all) leaves out links it cannot resolve;
        # tests/test_api_stateful.py proves every link is in the full one.
        if response is None or link.target not in operations:
            continue
        definition = {"operationId": link.target, "description": link.description}
        if link.parameters:
            definition["parameters"] = dict(link.parameters)
        if link.request_body is not None:
            definition["requestBody"] = dict(link.request_body)
        response.setdefault("links", {})[link.name] = definition
    return result
