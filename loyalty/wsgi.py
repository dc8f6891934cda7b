"""WSGI entry point (gunicorn loyalty.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

from loyalty.startup import freeze_loaded_objects

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loyalty.settings")
application = get_wsgi_application()
freeze_loaded_objects()
