"""Request handling every screen shares: idle sessions, htmx requests after a session expired, wrong HTTP methods,
and the operations endpoints answered before all of it."""

import logging
import time

from django.conf import settings
from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode

from loyalty import views_operations

logger = logging.getLogger(__name__)
# What a lost database connection raises (psycopg's errors, wrapped by Django).
DATABASE_LOST = (OperationalError, InterfaceError)


class HtmxLoginRedirectMiddleware:
    """An htmx request that ends at the login page (the session expired) reloads the whole page there.

    Without this htmx swaps the login page into the tab or grid the user clicked; with it the
    browser goes to the login page, and back to where the user was once signed in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code != 302:
            return response
        login = reverse(settings.LOGIN_URL)
        if not response["Location"].startswith(login):
            return response
        page = request.htmx.current_url_abs_path or request.get_full_path()
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = f"{login}?{urlencode({'next': page})}"
        return redirect


class MethodNotAllowedPageMiddleware:
    """A GET on a POST-only address shows a page inside the layout instead of a bare 405."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not request.path.startswith("/api/"):
            page = render(request, "405.html", {"allowed": response["Allow"]}, status=405)
            page["Allow"] = response["Allow"]
            return page
        return response


class IdleSessionMiddleware:
    """A signed-in session ends after SESSION_IDLE_MINUTES without a request (SESSION_COOKIE_AGE).

    Each request moves the end forward, but the session row is rewritten at most once per
    REFRESH_SECONDS, not on every request (SESSION_SAVE_EVERY_REQUEST would add a write to each page).
    """

    REFRESH_SECONDS = 300

    @staticmethod
    def on_login(sender, request, user, **kwargs):
        """Signing in saves the session anyway: it starts counting from now (the first page writes nothing)."""
        if getattr(request, "session", None) is not None:
            request.session["_seen"] = int(time.time())

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get("_auth_user_id"):
            now = int(time.time())
            if now - session.get("_seen", 0) >= self.REFRESH_SECONDS:
                session["_seen"] = now  # modified: SessionMiddleware saves it with a fresh expiry
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A request whose database connection is lost (the server restarted, a failover, a killed backend) answers
    503 with a message, not a 500: its transaction was rolled back with the connection, so nothing was saved,
    and the broken connection is closed so the next request opens a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DATABASE_LOST):
            return None
        logger.error("Database connection lost during %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close()
        detail = "The database could not complete the request (its connection was lost): nothing was saved. Try again."
        if request.path.startswith("/api/"):
            body = {"type": "urn:loyalty:problem:database-unavailable", "title": "The database is unavailable",
                    "status": 503, "detail": detail, "code": "database_unavailable"}  # fmt: skip
            response = JsonResponse(body, status=503, content_type="application/problem+json")
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "5"
        return response


class OperationsEndpointsMiddleware:
    """Answers /health/ and /metrics before the rest of the stack.

    A load balancer's probe and a Prometheus scrape come by the server's address (no allowed Host),
    over plain HTTP behind TLS termination (no HTTPS redirect wanted), without a cookie; answered here,
    they pass no host check, no redirect, no session, and are not counted as site traffic.
    """

    ENDPOINTS = {"/health/": views_operations.health, "/metrics": views_operations.metrics}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self.ENDPOINTS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)
