"""Settings of the gunicorn that bench_exchanges.py starts: `make serve`'s (loyalty.settings_production) with
the benchmark's floor endpoint added to the URLs (server_urls). Nothing else changes, so the floor and the
exchanges API are served by the same project, middleware, REST framework settings and server.

Not a benchmark (bench_*.py are): run_all.py does not run it.
"""

from loyalty.settings_production import *  # noqa: F403

ROOT_URLCONF = "bench.server_urls"
