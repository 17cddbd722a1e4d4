"""WSGI entry point (gunicorn eventconsole.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "eventconsole.settings")
application = get_wsgi_application()
