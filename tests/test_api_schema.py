"""The REST API against its own OpenAPI schema (schemathesis): no 500, and every response as documented.

Generated requests, valid and invalid, for every operation, authenticated by token as a superuser (every
endpoint reachable) and as each other role the API meets (CSR, supervisor, member, a partner client: their
refusals must be documented too), sent to the WSGI application in process. Checks: no server error, and
status codes, content types and bodies that the schema documents.
"""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from loyalty.wsgi import application
from tests.api_callers import ROLES, api_user, requests_keep_the_test_connection
from tests.factories import api_token
from tests.retro.factories import RetroTransactionFactory, member_in, retro_program

# The schema the API serves at /api/schema/, generated the same way (no request, no database needed).
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str)))
schema.app = application


@pytest.fixture(params=ROLES)
def token(request, db, roles):
    program = retro_program()
    member_in(program)
    RetroTransactionFactory(program=program)
    user = api_user(request.param, program)
    with requests_keep_the_test_connection():
        yield api_token(user)


# What the API promises: no server error, and only documented statuses, content types, headers and bodies.
# (Not "schema-valid data is accepted": a well-formed membership number that does not exist is still a 400.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
