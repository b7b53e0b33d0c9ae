from celery import shared_task

from marketplace import services


@shared_task
def record_job_heartbeat(name: str = "beat") -> None:
    """Scheduled every minute; /healthz reports how long ago it last ran."""
    services.job_heartbeat_record(name=name)
