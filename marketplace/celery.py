"""The Celery app.

Configuration lives in Django settings under the ``CELERY_`` prefix (see settings.py, "Background
jobs"), including the one beat schedule. Tasks are discovered from every installed app's
``tasks.py``.

Run it with ``celery -A marketplace worker`` and ``celery -A marketplace beat`` (production, with
``REDIS_URL``), or ``celery -A marketplace worker -B`` on the embedded filesystem broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

app = Celery("marketplace")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
