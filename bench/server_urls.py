"""The project's URLs plus /bench/floor/, the floor endpoint of bench_exchanges.py; never in production URLs.

The floor is a REST framework view with the exchanges API's authentication, permission and throttle classes
(the project's defaults: the partner's token) that does one INSERT, into bench_floor, a table the benchmark
creates itself (no migration).
"""

from django.db import connection
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from exchanges.api import PartnerView
from loyalty.urls import handler403, handler404  # noqa: F401
from loyalty.urls import urlpatterns as project_urlpatterns

FLOOR_TABLE = "bench_floor"


class FloorView(APIView):
    """Authenticate the token (as PartnerView does: same classes), then one INSERT in autocommit."""

    authentication_classes = PartnerView.authentication_classes
    permission_classes = PartnerView.permission_classes
    throttle_classes = PartnerView.throttle_classes

    def post(self, request):
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FLOOR_TABLE} (user_id) VALUES (%s) RETURNING id", [request.user.pk])
            (pk,) = cursor.fetchone()
        return Response({"id": pk}, status=201)


urlpatterns = [path("bench/floor/", FloorView.as_view(), name="bench-floor"), *project_urlpatterns]
