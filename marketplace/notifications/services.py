"""The one way the marketplace sends email: `notify` stores the message, a Celery job sends it.

Call `notify` inside the transaction of the change it tells about: the row commits (or rolls back)
with the change, and the job is enqueued only once it has committed. The key makes it idempotent:
a second call with a known key stores and enqueues nothing.
"""

import json
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from kombu.exceptions import OperationalError

from marketplace.notifications.models import Notification

logger = logging.getLogger(__name__)

LAST_ERROR_MAX_LENGTH = 2000
# A notification never tried this long after it was stored lost its job; the sweep enqueues it.
PENDING_AFTER = timedelta(minutes=5)


def notify(
    *,
    kind: str,
    key: str,
    to_email: str,
    subject_template: str,
    body_template: str,
    context: dict,
    user=None,
    about: str = "",
    secret_context: dict | None = None,
) -> Notification:
    """Store one notification under `key` and send it by a background job once committed.

    `context` (and `secret_context`, for values such as token links that are emptied once sent)
    must be plain JSON values: format amounts and dates before passing them. Returns the row, the
    existing one when the key is known (then nothing more is stored or sent). Raises TypeError for
    a context that is not JSON-serializable.
    """
    candidate = _prepare(
        kind=kind,
        key=key,
        to_email=to_email,
        subject_template=subject_template,
        body_template=body_template,
        context=context,
        user=user,
        about=about,
        secret_context=secret_context,
    )
    notification, created = Notification.objects.get_or_create(
        key=key, defaults={field: getattr(candidate, field) for field in _STORED_FIELDS}
    )
    if created:
        notification_id = notification.pk
        transaction.on_commit(lambda: _enqueue([notification_id]))
    return notification


def notify_many(notices: list[dict]) -> None:
    """`notify` for several notifications written by one change, in three queries whatever their
    number (a checkout's buyer and sellers). Each item holds `notify`'s keyword arguments."""
    candidates = {notice["key"]: _prepare(**notice) for notice in notices}
    known = set(Notification.objects.filter(key__in=candidates).values_list("key", flat=True))
    new = [candidate for key, candidate in candidates.items() if key not in known]
    if not new:
        return
    # A row inserted meanwhile by another transaction is skipped here, and found (and perhaps
    # enqueued a second time, which the job's lock makes harmless) by the look-up below.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    notification_ids = list(
        Notification.objects.filter(
            key__in=[candidate.key for candidate in new], sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _enqueue(notification_ids))


_STORED_FIELDS = (
    "kind",
    "recipient_email",
    "recipient",
    "about",
    "subject_template",
    "body_template",
    "context",
    "secret_context",
)


def _prepare(
    *,
    kind: str,
    key: str,
    to_email: str,
    subject_template: str,
    body_template: str,
    context: dict,
    user=None,
    about: str = "",
    secret_context: dict | None = None,
) -> Notification:
    context = {"marketplace_name": settings.MARKETPLACE_NAME, **context}
    # Refuse model instances, Money, dates...: the job renders only what the database holds.
    json.dumps(context)
    json.dumps(secret_context or {})
    return Notification(
        key=key,
        kind=kind,
        recipient_email=to_email,
        recipient=user,
        about=about,
        subject_template=subject_template,
        body_template=body_template,
        context=context,
        secret_context=secret_context or {},
    )


def _enqueue(notification_ids: list[int]) -> None:
    from marketplace.notifications.tasks import notification_send

    for notification_id in notification_ids:
        try:
            notification_send.delay(notification_id)
        except OperationalError:
            # The broker is unreachable: the change is committed and the row is stored, so the
            # person's request succeeds and the periodic sweep enqueues the row later.
            logger.warning("Notification %s not enqueued; the sweep will.", notification_id)


def notifications_enqueue_pending(
    *, older_than: timedelta = PENDING_AFTER, limit: int = 500
) -> int:
    """Enqueue again the notifications stored at least `older_than` ago and never tried (their job
    was lost: the broker was down, or a worker died before it ran). Rows that failed are retried by
    their own job. Returns how many were enqueued."""
    notification_ids = list(
        Notification.objects.filter(
            sent_at__isnull=True, attempts=0, created_at__lte=timezone.now() - older_than
        )
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    _enqueue(notification_ids)
    return len(notification_ids)


def notifications_send_again(*, notification_ids: list[int]) -> int:
    """Staff (admin action): enqueue the given notifications that are still unsent, e.g. after
    their job gave up. Returns how many were enqueued."""
    unsent = list(
        Notification.objects.filter(pk__in=notification_ids, sent_at__isnull=True)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _enqueue(unsent))
    return len(unsent)


def notification_render(notification: Notification) -> EmailMessage:
    """The email a notification stands for (subject on one line, plain-text body)."""
    context = {**notification.context, **notification.secret_context}
    subject = render_to_string(notification.subject_template, context)
    subject = " ".join(line.strip() for line in subject.splitlines() if line.strip())
    return EmailMessage(
        subject=subject,
        body=render_to_string(notification.body_template, context),
        to=[notification.recipient_email],
    )


def notification_deliver(*, notification_id: int) -> bool:
    """Send a stored notification unless it was sent already. Returns whether it sent now.

    The row is locked while sending, so a redelivered or concurrent job waits and then finds it
    sent. A failure to send is recorded (attempts, last_error) and raised again for the job to
    retry.
    """
    try:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update().filter(pk=notification_id).first()
            )
            if notification is None or notification.sent_at is not None:
                return False
            notification_render(notification).send()
            notification.sent_at = timezone.now()
            notification.attempts += 1
            notification.last_error = ""
            notification.secret_context = {}
            notification.save(update_fields=["sent_at", "attempts", "last_error", "secret_context"])
    except Exception as error:  # the job retries connection and SMTP failures, nothing else
        _record_failure(notification_id, error)
        raise
    return True


def _record_failure(notification_id: int, error: Exception) -> None:
    logger.warning("Notification %s not sent: %r", notification_id, error)
    Notification.objects.filter(pk=notification_id, sent_at__isnull=True).update(
        attempts=F("attempts") + 1,
        last_error=f"{type(error).__name__}: {error}"[:LAST_ERROR_MAX_LENGTH],
    )
