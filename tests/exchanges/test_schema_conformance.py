"""The exchanges API against its own OpenAPI schema (schemathesis), as a partner client: no 500, answers as documented.

tests/test_api_schema.py calls every endpoint as a superuser, who is no partner client (every exchanges call is
then a 403); here a partner with a member, points, a conversion ratio and a captured booking is the caller.
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings

from exchanges import services
from loyalty.wsgi import application
from tests.exchanges.conftest import TICKET_A
from tests.factories import api_token
from tests.test_api_schema import CHECKS

schema = schemathesis.openapi.from_dict(
    json.loads(json.dumps(SchemaGenerator().get_schema(public=True), default=str))
).include(path_regex="^/api/exchanges/")
schema.app = application


@pytest.fixture
def token(partner, payer, program):
    redemption = services.authorize(
        partner=partner, program=program, membership=payer, pnr="ABC123", currency="EUR", cash_amount=0,
        tickets=[(TICKET_A, 1000)],
    )  # fmt: skip
    services.capture(partner=partner, redemption_id=redemption.pk)
    # As Django's test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield api_token(partner.user)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_exchanges_api_answers_as_its_schema_says(case, token):
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
