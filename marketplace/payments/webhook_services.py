"""Writes for Stripe webhook events: store a verified event once, process it once.

Storing and processing are apart so the endpoint answers Stripe within its timeout whatever the
handlers cost, and so a failed event keeps its payload for the retry (Celery's, then the admin's).
"""

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketplace.payments.models import STRIPE_WEBHOOK_EVENT_MACHINE, StripeWebhookEvent
from marketplace.payments.webhooks import (
    StripeEvent,
    webhook_event_dispatch,
    webhook_event_validate,
)
from marketplace.state import transition, transition_many

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000


def stripe_webhook_event_record(*, payload: dict[str, Any]) -> tuple[StripeWebhookEvent, bool]:
    """Store a verified event (`payload`, as Stripe sent it) unless its id is known, and enqueue
    its processing after commit. Returns (event, created); a repeated delivery is (event, False)
    and enqueues nothing. Concurrent deliveries of one id store one row: the unique event_id
    decides, and the losers read the winner's row.

    Raises WebhookRejected (nothing stored) for a malformed envelope: the view has checked it
    already, and checking here too keeps a malformed row from being written by any other caller."""
    event = StripeEvent.from_payload(webhook_event_validate(payload))
    with transaction.atomic():
        stored, created = StripeWebhookEvent.objects.get_or_create(
            event_id=event.id,
            defaults={
                "type": event.type,
                "account": event.account,
                "livemode": event.livemode,
                "created": event.created,
                "payload": payload,
            },
        )
        if created:
            transaction.on_commit(
                lambda: stripe_webhook_event_enqueue(event_pk=stored.pk), robust=True
            )
    return stored, created


def stripe_webhook_event_enqueue(*, event_pk: int) -> None:
    """Hand the event to Celery. Call it after commit (the worker must find the row)."""
    from marketplace.payments.tasks import process_stripe_event

    process_stripe_event.delay(event_pk)


def stripe_webhook_event_process(*, event_pk: int) -> StripeWebhookEvent | None:
    """Run the handlers for a stored event, once: the row is locked for the whole run, and an
    event already processed is left alone, so concurrent or repeated runs do the work once.

    The handlers' writes and the `processed` mark commit together. When a handler raises, its
    writes roll back, the event is marked failed with the error and one more attempt, and the
    exception propagates (the task retries it). Returns None for an unknown id.
    """
    try:
        with transaction.atomic():
            stored = StripeWebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
            if stored is None or stored.status == StripeWebhookEvent.Status.PROCESSED:
                return stored
            note = webhook_event_dispatch(StripeEvent.from_payload(stored.payload))
            return transition(
                STRIPE_WEBHOOK_EVENT_MACHINE,
                instance=stored,
                to_status=StripeWebhookEvent.Status.PROCESSED,
                fields={
                    "attempts": stored.attempts + 1,
                    "note": _storable_text(note)[:255],
                    "last_error": "",
                    "processed_at": timezone.now(),
                },
            )
    except Exception as error:
        logger.exception("Stripe webhook event %s failed", event_pk)
        # Outside the rolled-back transaction, so the failure itself is kept.
        transition_many(
            STRIPE_WEBHOOK_EVENT_MACHINE,
            pks=[event_pk],
            from_status=[StripeWebhookEvent.Status.RECEIVED, StripeWebhookEvent.Status.FAILED],
            to_status=StripeWebhookEvent.Status.FAILED,
            fields={
                "attempts": F("attempts") + 1,
                "last_error": _storable_text(f"{type(error).__name__}: {error}")[:MAX_ERROR_LENGTH],
            },
        )
        raise


def _storable_text(text: str) -> str:
    """`text` without what PostgreSQL refuses in a text column (NUL) or no encoder accepts (lone
    surrogates). Errors and notes may quote an event's values; a failure whose message cannot be
    saved would leave the event looking untried."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def stripe_webhook_events_retry(*, event_pks: list[int]) -> int:
    """Enqueue events again (the admin's "retry" action): failed ones, and received ones whose
    task was lost (a broker that was down when they arrived). Returns how many were queued;
    processed events are skipped. Safe against a task still queued: processing runs once."""
    pks = list(
        StripeWebhookEvent.objects.filter(pk__in=event_pks)
        .exclude(status=StripeWebhookEvent.Status.PROCESSED)
        .values_list("pk", flat=True)
    )
    for pk in pks:
        transaction.on_commit(lambda pk=pk: stripe_webhook_event_enqueue(event_pk=pk), robust=True)
    return len(pks)
