"""The WSGI application that gunicorn serves."""

import os
import sys

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stance.settings")

# Django REST Framework imports django.contrib.postgres's fields whenever it can, and they
# import the PostgreSQL driver: about 10 MB in every worker of a server on SQLite, which
# never talks to PostgreSQL. Marked as not installed (None in sys.modules, what Python's
# import system reads as "cannot be imported"), DRF leaves the fields out, as it does where
# psycopg is not installed. On PostgreSQL nothing changes.
if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sys.modules.setdefault("psycopg", None)  # type: ignore[arg-type]

application = get_wsgi_application()
