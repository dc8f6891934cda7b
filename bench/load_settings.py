"""Settings of the gunicorn that bench_load.py starts: production's, over plain HTTP on loopback (the TLS
proxy in front of production is left out, so the browser users' cookies travel without it).

Not a benchmark (bench_*.py are): run_all.py does not run it.
"""

from loyalty.settings_production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
