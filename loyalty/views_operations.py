"""The two addresses machines ask: /health/ (the load balancer) and /metrics (Prometheus). No login, no session."""

import hmac
import ipaddress
import os

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import multiprocess

from loyalty.health import check_health
from loyalty.metrics import BusinessCollector

# The business gauges live in a registry of their own: read only on a /metrics scrape, never by
# anything else that collects the process's default registry.
BUSINESS_REGISTRY = prometheus_client.CollectorRegistry()
BUSINESS_REGISTRY.register(BusinessCollector())
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@never_cache
@require_safe
def health(request):
    """200 when every part is healthy, else 503 naming each failing part and why. ?part=database,broker asks
    only those (e.g. the load balancer, leaving the daily passes to the alerts)."""
    asked = {name.strip() for value in request.GET.getlist("part") for name in value.split(",") if name.strip()}
    healthy, parts = check_health(asked or None)
    failing = {name: part["detail"] for name, part in parts.items() if not part["ok"]}
    body = {"status": "ok" if healthy else "failing", **({"failing": failing} if failing else {}), "parts": parts}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_safe
def metrics(request):
    """Prometheus's text format: the process's request and database metrics, then the business gauges."""
    if not may_scrape(request):
        return HttpResponse("Metrics are for the monitoring system only.\n", status=403, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several gunicorn workers: their counters are summed from the shared directory.
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    page = prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(BUSINESS_REGISTRY)
    return HttpResponse(page, content_type=prometheus_client.CONTENT_TYPE_LATEST)


def may_scrape(request):
    """With METRICS_TOKEN set, only a request that sends it; without, only one from loopback through no proxy.

    A reverse proxy on the same machine also connects from loopback: a request it forwarded (it says
    so in a forwarding header) is an outside one.
    """
    if settings.METRICS_TOKEN:
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        return hmac.compare_digest(sent.encode(), settings.METRICS_TOKEN.encode())
    if any(header in request.headers for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False
