# The README's two commands: `make run` and `make test`. Everything else serves them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?= -n 2

.PHONY: run test lint install migrate demo worker beat serve bench lock clean

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

run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving the back office on http://127.0.0.1:$(PORT)/"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(PY) manage.py makemigrations --check --dry-run

test: lint
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Real services: DATABASE_URL=postgres://… REDIS_URL=redis://… make worker / make beat / make serve
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

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
