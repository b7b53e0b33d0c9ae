"""Background jobs run on a real Celery worker process, on the broker the settings choose:
Redis when REDIS_URL is set (CI), kombu's filesystem transport otherwise (the embedded default)."""

import time
import uuid

import pytest
from django.conf import settings

from marketplace import celery_app
from marketplace.models import JobHeartbeat
from marketplace.tasks import record_job_heartbeat
from tests.celery_worker import celery_worker_process


@pytest.fixture
def real_worker():
    """A `celery worker` subprocess consuming a queue of its own, with the test database."""
    with celery_worker_process() as queue:
        yield queue


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_on_a_real_worker_process(real_worker):
    job_name = f"worker-test-{uuid.uuid4().hex[:8]}"

    celery_app.conf.task_always_eager = False  # send it to the broker, not inline
    try:
        record_job_heartbeat.apply_async(args=[job_name], queue=real_worker)
    finally:
        celery_app.conf.task_always_eager = True

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        heartbeat = JobHeartbeat.objects.filter(name=job_name).first()
        if heartbeat:
            break
        time.sleep(0.25)
    assert heartbeat is not None, "the worker did not run the task within 60 s"
    assert heartbeat.hostname


def test_the_broker_is_redis_when_redis_url_is_set_and_the_filesystem_otherwise():
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL == settings.REDIS_URL
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"


def test_the_reliability_settings_hold_for_every_task():
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1


def test_every_scheduled_job_names_a_registered_task():
    celery_app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in celery_app.tasks
