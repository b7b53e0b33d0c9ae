"""Notification jobs. Thin: an id in, the service locks the row and sends it at most once."""

from smtplib import SMTPException

from celery import shared_task

from marketplace.notifications import services

MAX_SEND_RETRIES = 5


@shared_task(
    acks_late=True,
    autoretry_for=(OSError, SMTPException),
    max_retries=MAX_SEND_RETRIES,
    retry_backoff=30,  # 30 s, 60 s, 120 s, ... with jitter, at most 10 minutes
    retry_backoff_max=600,
)
def notification_send(notification_id: int) -> None:
    """Send one stored notification. Safe to run twice or concurrently: a sent one is skipped.
    A connection or SMTP failure is recorded on the row and retried with backoff."""
    services.notification_deliver(notification_id=notification_id)


@shared_task
def enqueue_pending_notifications() -> int:
    """Scheduled every five minutes: enqueue the notifications whose job was lost."""
    return services.notifications_enqueue_pending()
