# The README's two commands: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test lint install migrate demo worker beat serve bench lock stop-db clean

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# xstatic-bootstrap builds with pkg_resources, gone from setuptools 81.
	$(PY) -m pip install --quiet "setuptools<81" wheel
	$(PY) -m pip install --quiet --no-build-isolation -r requirements.lock
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --if-empty

# The web server, a Celery worker and beat in one terminal; Ctrl-C stops all three.
run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py run_backoffice 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

test: lint
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) scripts/ensure_browser.py
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# One service each, e.g. on real servers: DATABASE_URL=postgres://… REDIS_URL=redis://… make worker / beat / serve
worker: install
	$(VENV)/bin/celery -A loyalty worker --loglevel=info

beat: install
	$(VENV)/bin/celery -A loyalty beat --loglevel=info --scheduler django_celery_beat.schedulers:DatabaseScheduler

serve: migrate
	$(PY) manage.py collectstatic --noinput --verbosity 0
	DJANGO_SETTINGS_MODULE=loyalty.settings_production $(VENV)/bin/gunicorn loyalty.wsgi --bind 127.0.0.1:$(PORT) --workers 3

bench: install
	$(PY) bench/run_all.py

lock:
	$(PY) -m pip install --no-build-isolation -r requirements.in
	$(PY) -m pip freeze --exclude-editable > requirements.lock

# The embedded PostgreSQL (.pgdata/) stops when its last user exits; this stops it whatever holds it
# (without .venv, where its binaries live, by signalling the server: SIGINT is a fast shutdown).
stop-db:
	if [ -x $(PY) ]; then $(PY) -m loyalty.embedded_database stop; \
	elif [ -f .pgdata/postmaster.pid ]; then kill -INT "$$(head -n1 .pgdata/postmaster.pid)" 2>/dev/null || true; fi

clean: stop-db
	rm -rf $(VENV) staticfiles .pgdata
