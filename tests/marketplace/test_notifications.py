"""marketplace.notifications: one row per idempotency key, sent once by a Celery job, retried on
SMTP and connection failures; and the same on a real worker process receiving the job twice."""

import time
import uuid
from datetime import timedelta
from smtplib import SMTPServerDisconnected
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from marketplace import celery_app
from marketplace.models import JobHeartbeat
from marketplace.notifications.models import Notification
from marketplace.notifications.services import (
    notification_deliver,
    notifications_enqueue_pending,
    notify,
    notify_many,
)
from marketplace.notifications.tasks import (
    MAX_SEND_RETRIES,
    enqueue_pending_notifications,
    notification_send,
)
from marketplace.tasks import record_job_heartbeat
from tests.accounts.factories import UserFactory
from tests.celery_worker import celery_worker_process

pytestmark = pytest.mark.django_db

WELCOME = {
    "kind": "account.welcome",
    "to_email": "ann@example.com",
    "subject_template": "accounts/email/welcome_subject.txt",
    "body_template": "accounts/email/welcome.txt",
    "context": {"name": "Ann", "email": "ann@example.com"},
}


class FlakyBackend(BaseEmailBackend):
    """Fails the first `failures` sends as a dropped SMTP connection would, then delivers to
    Django's test outbox."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def flaky_backend(settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    yield FlakyBackend
    FlakyBackend.failures = 0


def stored(key, **fields):
    return Notification.objects.create(
        key=key,
        kind="account.welcome",
        recipient_email="ann@example.com",
        subject_template=WELCOME["subject_template"],
        body_template=WELCOME["body_template"],
        context={**WELCOME["context"], "marketplace_name": "Agora"},
        **fields,
    )


def test_notify_stores_one_row_per_key_and_a_repeated_key_sends_nothing_more(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(key="welcome:test-1", about="user:1", **WELCOME)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = notify(key="welcome:test-1", **{**WELCOME, "to_email": "other@example.com"})

    assert again.pk == first.pk
    assert callbacks == []  # nothing enqueued for a known key
    assert Notification.objects.count() == 1
    assert [message.to for message in mailoutbox] == [["ann@example.com"]]
    assert mailoutbox[0].subject == "Welcome to Agora"
    assert mailoutbox[0].body.startswith("Hi Ann,\n\nWelcome to Agora!")
    first.refresh_from_db()
    assert first.sent_at is not None
    assert first.attempts == 1
    assert first.about == "user:1"
    assert first.context["marketplace_name"] == "Agora"


def test_nothing_is_stored_or_sent_when_the_change_rolls_back(
    mailoutbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify(key="welcome:rolled-back", **WELCOME)
        raise RuntimeError

    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_notify_many_stores_the_new_keys_and_enqueues_only_those(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(key="batch:1", **WELCOME)
    with django_capture_on_commit_callbacks(execute=True):
        notify_many(
            [
                {"key": "batch:1", **WELCOME},
                {"key": "batch:2", **{**WELCOME, "to_email": "bo@example.com"}},
            ]
        )

    assert Notification.objects.count() == 2
    assert sorted(message.to[0] for message in mailoutbox) == ["ann@example.com", "bo@example.com"]


def test_a_context_that_is_not_plain_json_is_refused():
    with pytest.raises(TypeError):
        notify(key="welcome:bad", **{**WELCOME, "context": {"user": UserFactory()}})
    assert not Notification.objects.exists()


def test_the_job_is_idempotent_running_it_twice_sends_one_email(mailoutbox):
    notification = stored("welcome:twice")

    notification_send.apply(args=[notification.pk])
    notification_send.apply(args=[notification.pk])

    assert len(mailoutbox) == 1
    assert notification_deliver(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_an_smtp_failure_is_recorded_and_a_later_retry_sends(flaky_backend, mailoutbox):
    notification = stored("welcome:flaky")
    flaky_backend.failures = 1

    # Called directly (not by a worker), the job raises instead of scheduling its retry.
    with pytest.raises(SMTPServerDisconnected):
        notification_send(notification.pk)

    notification.refresh_from_db()
    assert notification.sent_at is None
    assert notification.attempts == 1
    assert notification.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert mailoutbox == []

    notification_send(notification.pk)  # the retry

    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert len(mailoutbox) == 1


def test_the_job_retries_by_itself_until_the_server_answers(flaky_backend, mailoutbox):
    notification = stored("welcome:retries")
    flaky_backend.failures = 2

    # Applied inline, the retries run inline too, without their backoff delays (and without
    # the tests' propagation of errors, which would stop at the first retry).
    celery_app.conf.task_eager_propagates = False
    try:
        result = notification_send.apply(args=[notification.pk])
    finally:
        celery_app.conf.task_eager_propagates = True

    assert result.successful()

    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.attempts == 3
    assert len(mailoutbox) == 1


def test_the_retry_policy():
    assert set(notification_send.autoretry_for) >= {OSError}
    assert notification_send.max_retries == MAX_SEND_RETRIES == 5
    assert notification_send.retry_backoff
    assert notification_send.acks_late


def test_a_secret_link_is_rendered_then_dropped_from_the_row(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification = notify(
            key="reset:secret",
            kind="account.password_reset",
            to_email="ann@example.com",
            subject_template="accounts/email/password_reset_subject.txt",
            body_template="accounts/email/password_reset.txt",
            context={"name": "Ann", "email": "ann@example.com"},
            secret_context={"link": "https://example.com/reset/secret-token/"},
        )

    assert "https://example.com/reset/secret-token/" in mailoutbox[0].body
    notification.refresh_from_db()
    assert notification.secret_context == {}
    assert "secret-token" not in str(notification.context)


def test_the_admin_lists_notifications_read_only(admin_client):
    stored("welcome:admin", secret_context={"link": "https://example.com/reset/secret-token/"})
    changelist = reverse("admin:notifications_notification_changelist")

    response = admin_client.get(changelist, {"q": "ann@", "sent": "no"})
    assert response.status_code == 200
    assert "ann@example.com" in response.content.decode()
    assert admin_client.get(changelist, {"sent": "yes"}).status_code == 200

    notification = Notification.objects.get()
    page = admin_client.get(
        reverse("admin:notifications_notification_change", args=[notification.pk])
    )
    assert page.status_code == 200
    assert "secret-token" not in page.content.decode()
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403


def test_an_unreachable_broker_does_not_fail_the_change_and_the_sweep_sends_later(
    mailoutbox, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(notification_send, "delay", side_effect=OperationalError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = notify(key="welcome:broker-down", **WELCOME)
    assert mailoutbox == []

    assert notifications_enqueue_pending() == 0  # too recent: its job may still be queued
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(minutes=6)
    )
    assert enqueue_pending_notifications() == 1

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.sent_at is not None


def test_the_sweep_leaves_sent_and_failed_notifications_alone(mailoutbox):
    long_ago = timezone.now() - timedelta(hours=1)
    stored("welcome:sent", sent_at=long_ago)
    stored("welcome:failing", attempts=2, last_error="SMTPServerDisconnected: gone")
    Notification.objects.update(created_at=long_ago)

    assert notifications_enqueue_pending() == 0
    assert mailoutbox == []


def test_staff_send_unsent_notifications_again_from_the_admin(
    admin_client, mailoutbox, django_capture_on_commit_callbacks
):
    given_up = stored("welcome:given-up", attempts=6, last_error="SMTPServerDisconnected: gone")
    already = stored("welcome:already", sent_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "send_again", "_selected_action": [given_up.pk, already.pk]},
            follow=True,
        )

    assert "1 notification enqueued." in response.content.decode()
    assert len(mailoutbox) == 1
    given_up.refresh_from_db()
    assert given_up.sent_at is not None


# --- On a real worker ------------------------------------------------------------------------


@pytest.fixture
def worker_writing_mail_to_files(tmp_path):
    """A `celery worker` subprocess on a queue of its own, with the test database, sending
    email with Django's file backend into a folder: (queue, folder)."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    mail_to_files = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    with celery_worker_process(extra_env=mail_to_files) as queue:
        yield queue, mail_dir


@pytest.mark.django_db(transaction=True)
def test_a_notification_delivered_twice_to_a_real_worker_is_sent_once(
    worker_writing_mail_to_files,
):
    queue, mail_dir = worker_writing_mail_to_files
    # Stored directly: notify() would run the job inline here (the tests' Celery is eager).
    notification = stored(f"welcome:worker-{uuid.uuid4().hex}")
    job_name = f"after-notification-{uuid.uuid4().hex[:8]}"
    task_id = str(uuid.uuid4())

    celery_app.conf.task_always_eager = False  # send them to the broker, not inline
    try:
        # The same message twice, as a broker redelivers it; then a marker job, which the solo
        # worker (one job at a time, in order) runs only after both deliveries.
        notification_send.apply_async(args=[notification.pk], task_id=task_id, queue=queue)
        notification_send.apply_async(args=[notification.pk], task_id=task_id, queue=queue)
        record_job_heartbeat.apply_async(args=[job_name], queue=queue)
    finally:
        celery_app.conf.task_always_eager = True

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if JobHeartbeat.objects.filter(name=job_name).exists():
            break
        time.sleep(0.25)
    else:
        pytest.fail("the worker did not run the jobs within 60 s")

    notification.refresh_from_db()
    assert notification.sent_at is not None
    assert notification.attempts == 1
    files = list(mail_dir.iterdir())
    sent = "".join(path.read_text() for path in files)
    assert len(files) == 1
    assert sent.count("Subject: Welcome to Agora") == 1
    assert "To: ann@example.com" in sent
