"""Production settings: the development settings hardened, and no default secret."""

import os

from django.core.exceptions import ImproperlyConfigured

os.environ.setdefault("DEBUG", "false")
# One JSON object per log line, for the log collector (LOG_FORMAT=text to read them by eye).
os.environ.setdefault("LOG_FORMAT", "json")

from loyalty.settings import *  # noqa: E402,F403

if not os.environ.get("SECRET_KEY"):
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Production settings refuse to start without it: "
        "export SECRET_KEY to a long random string (e.g. python -c "
        "'import secrets; print(secrets.token_urlsafe(50))')."
    )

# Members' e-mails must reach them: the development console backend only prints them.
if EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend" and not os.environ.get("EMAIL_HOST"):  # noqa: F405
    raise ImproperlyConfigured(
        "No e-mail server is configured. Production settings refuse to print members' e-mails to the console: "
        "set EMAIL_HOST (with EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS as needed) for "
        "SMTP, or EMAIL_BACKEND to another backend."
    )
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)  # noqa: F405

# A web or task process keeps its database connection between requests (checked before reuse): a new
# PostgreSQL backend per request costs its start and cold catalog caches in every request (bench_exchanges:
# refunds 61 → 114 a second on this machine). CONN_MAX_AGE=0 returns to a connection a request, e.g.
# behind PgBouncer in transaction pooling (docs/scaling.md).
for _alias in ("default", "progress"):
    DATABASES[_alias]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))  # noqa: F405
    DATABASES[_alias]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = env_bool("DEBUG", False)  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
# (The load balancer's /health/ and the /metrics scrape are answered before the redirect:
# loyalty.middleware.OperationsEndpointsMiddleware.)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
