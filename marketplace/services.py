"""Writes of the shared core."""

import socket

from django.utils import timezone

from marketplace.models import JobHeartbeat


def job_heartbeat_record(*, name: str) -> JobHeartbeat:
    heartbeat, _ = JobHeartbeat.objects.update_or_create(
        name=name,
        defaults={"last_ran_at": timezone.now(), "hostname": socket.gethostname()},
    )
    return heartbeat
