import pytest
from django.db import OperationalError

from marketplace import health
from marketplace.services import job_heartbeat_record

pytestmark = pytest.mark.django_db


def test_it_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    assert body["broker"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_answers_503_when_the_broker_is_unreachable(client, settings):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["status"] == "down"
    assert response.json()["database"]["status"] == "ok"


def test_it_answers_503_when_the_database_fails(client, monkeypatch):
    class BrokenConnection:
        vendor = "broken"

        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == {
        "status": "down",
        "detail": "OperationalError: connection refused",
    }
    assert "jobs" not in response.json()


def test_it_reports_when_the_scheduled_jobs_last_ran(client):
    job_heartbeat_record(name="beat")

    jobs = client.get("/healthz").json()["jobs"]

    assert jobs["last_heartbeat"] is not None
    assert 0 <= jobs["seconds_ago"] < 60


def test_it_is_not_redirected_to_https_so_load_balancers_can_probe_it(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/").status_code == 301
