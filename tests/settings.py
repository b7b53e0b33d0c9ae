"""Settings for the test suite: the real settings, with the few changes tests need.

DATABASE_URL and REDIS_URL are honoured exactly as in production, so CI runs on PostgreSQL and
Redis; without them the suite runs on the embedded default (SQLite file, filesystem broker).
"""

import os
from pathlib import Path

# Before importing the real settings: they refuse to start without a secret when DEBUG is off,
# and tests keep their SQLite file and broker folder apart from a running development server.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "x" * 40)
os.environ.setdefault(
    "MARKETPLACE_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test")
)

from marketplace.settings import *  # noqa: F403
from marketplace.settings import DATABASES, STORAGES, VAR_DIR

# Fast hashing: tests create many users; the real hasher costs ~0.3 s a password.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test client speaks plain HTTP; HTTPS redirects are checked by the deploy-check test.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# No collectstatic before tests: serve files from the apps' static folders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks enqueued by code under test run inline; tests/marketplace/test_celery_worker.py turns this
# off and proves the same tasks run on a real worker process.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not Django's in-memory default, so a worker subprocess can open the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}

# WhiteNoise warns about a missing STATIC_ROOT; tests serve from the finders instead.
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Persistent connections would outlive the live server's threads and keep the test database busy
# at teardown; each test request opens and closes its own.
DATABASES["default"]["CONN_MAX_AGE"] = 0

# Whole-page caching is off by default in tests, so each test sees the pages its own data makes
# (the cache outlives a test's rolled-back transaction). tests/marketplace/test_pagecache.py and
# the browser tests turn it on.
STOREFRONT_PAGE_CACHE = False
