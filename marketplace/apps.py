import sys
from pathlib import Path

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured

# Programs that serve web requests (besides `manage.py runserver`): only they need the static
# files manifest, so collectstatic, migrate, check, Celery and the tests start without one.
WEB_SERVERS = frozenset({"gunicorn", "uwsgi", "uvicorn", "daphne", "hypercorn", "granian"})
MANAGE_PROGRAMS = frozenset({"manage.py", "django-admin", "django-admin.py", "django"})


def serves_web_requests(argv: list[str]) -> bool:
    """Whether the process started as `argv` serves web requests: `manage.py runserver` or a
    WSGI/ASGI server (also as `python -m <server>`)."""
    if not argv:
        return False
    program = Path(argv[0])
    name = program.parent.name if program.name == "__main__.py" else program.name
    if name in MANAGE_PROGRAMS:
        return len(argv) > 1 and argv[1] == "runserver"
    return name in WEB_SERVERS


def static_manifest_problem() -> str | None:
    """Why pages would fail for want of collectstatic's manifest, or None when they will not.

    With DEBUG off the static files storage is a manifest storage (hashed names, see settings):
    every `{% static %}` looks its file up in STATIC_ROOT/staticfiles.json, and without that file
    every page answers 500."""
    from django.conf import settings
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.files.storage import storages

    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestFilesMixin):
        return None
    if storage.manifest_storage.exists(storage.manifest_name):
        return None
    manifest = Path(storage.manifest_storage.path(storage.manifest_name))
    return (
        f"The static files manifest {manifest} is missing. With DJANGO_DEBUG off, pages link the "
        f"hashed static files that collectstatic writes to STATIC_ROOT ({settings.STATIC_ROOT}), "
        "so every page would fail. Run `python manage.py collectstatic --noinput` (with the same "
        "settings) before starting the web server; the Docker image does it when it is built. "
        "See docs/operations.md."
    )


class MarketplaceConfig(AppConfig):
    """The shared core: layouts, design system, health checks, demo data, job heartbeat."""

    name = "marketplace"
    verbose_name = "Marketplace core"

    def ready(self):
        from django.conf import settings
        from django.contrib import admin

        admin.site.site_header = f"{settings.MARKETPLACE_NAME} platform admin"
        admin.site.site_title = f"{settings.MARKETPLACE_NAME} admin"
        admin.site.index_title = "Run the marketplace"

        # Fail at start, not on the first request, when a web server has no static manifest.
        if serves_web_requests(sys.argv):
            problem = static_manifest_problem()
            if problem:
                raise ImproperlyConfigured(problem)
