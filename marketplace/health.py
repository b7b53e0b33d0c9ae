"""Readiness checks for /healthz: can this process reach its database and its broker?"""

import os
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from kombu import Connection

from marketplace.models import JobHeartbeat

BROKER_TIMEOUT_SECONDS = 2


@dataclass
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict:
        return {"status": "ok" if self.ok else "down", "detail": self.detail}


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure to talk to the database means "down"
        return Check(False, f"{type(error).__name__}: {error}".strip())
    return Check(True, connection.vendor)


def check_broker(broker_url: str | None = None) -> Check:
    broker_url = broker_url or settings.CELERY_BROKER_URL
    if broker_url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if os.path.isdir(folder) and os.access(folder, os.W_OK):
            return Check(True, "filesystem")
        return Check(False, f"broker folder {folder} is missing or not writable")
    try:
        with Connection(broker_url, connect_timeout=BROKER_TIMEOUT_SECONDS) as broker:
            broker.ensure_connection(
                max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS
            )
    except Exception as error:
        return Check(False, f"{type(error).__name__}: {error}".strip())
    return Check(True, broker_url.split("://", 1)[0])


def jobs_last_heartbeat() -> dict:
    """Informational: a stale heartbeat means no worker or no beat, but the web still serves."""
    heartbeat = JobHeartbeat.objects.filter(name="beat").first()
    if heartbeat is None:
        return {"last_heartbeat": None, "seconds_ago": None}
    return {
        "last_heartbeat": heartbeat.last_ran_at.isoformat(),
        "seconds_ago": int((timezone.now() - heartbeat.last_ran_at).total_seconds()),
    }
