"""Stripe webhooks: signature verification and the registry of handlers. No models here; storing
and processing events is marketplace.payments.webhook_services, the endpoint is webhook_views.

How an event travels: the view verifies the signature on the raw body, stores the event once by
its id and answers 200; a Celery task then locks the stored row, runs the handlers registered for
its type in one transaction and marks it processed. Repeated deliveries find the row and do
nothing; a failing handler leaves the event `failed` with its error, and Celery retries it.

Handlers live in the app that owns the data, because payments sits below every other app and
cannot import them. An app registers its handlers when it loads:

    # sellers/webhooks.py, imported from SellersConfig.ready()
    @webhook_handler_register("account.updated")
    def payout_account_updated(event: StripeEvent) -> str | None: ...

Registered today: `account.updated` (sellers/webhooks.py: the payout account's state). Still to
register, by the code that owns them: `payment_intent.succeeded` and `payment_intent.payment_failed`
(checkout, in orders), `charge.refunded` and `transfer.reversed` (refunds, in orders), `payout.paid`
and `payout.failed` (payouts, in sellers). An event nobody handles is marked processed with the
note "no handler".

Rules for handlers:
- Run inside the transaction that holds the event's row lock; write through services; never call
  the payment provider (no network while holding locks): the event carries the object's snapshot.
- Deliveries come in any order. Read the state from `event.object` and apply only moves forward:
  compare `event.created` with a marker stored on our row, or move a status only along its
  transition table, so an older event arriving late changes nothing.
- Return None, or a short note saying why nothing was done ("stale", "unknown account"); raise to
  fail the event (it is retried).
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe

from marketplace.errors import DomainError

SIGNATURE_TOLERANCE_SECONDS = 300
NO_HANDLER_NOTE = "no handler"


class WebhookRejected(DomainError):
    """The request is not a genuine, recent, well-formed event from Stripe."""

    code = "webhook_rejected"


@dataclass(frozen=True)
class StripeEvent:
    """The parts of a Stripe event that handlers need, as plain values."""

    id: str
    type: str
    created: datetime | None
    # The connected account the event happened on ("" for the platform's own objects).
    account: str
    livemode: bool
    # `data.object`: the object's state when the event happened.
    object: dict[str, Any] = field(default_factory=dict)
    # `data.previous_attributes`: the fields that changed, with their old values.
    previous_attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> "StripeEvent":
        data = payload.get("data") or {}
        created = payload.get("created")
        return cls(
            id=str(payload["id"]),
            type=str(payload["type"]),
            created=datetime.fromtimestamp(int(created), tz=UTC) if created else None,
            account=str(payload.get("account") or ""),
            livemode=bool(payload.get("livemode")),
            object=dict(data.get("object") or {}),
            previous_attributes=dict(data.get("previous_attributes") or {}),
        )


WebhookHandler = Callable[[StripeEvent], str | None]
_handlers: dict[str, list[WebhookHandler]] = {}


def webhook_handler_register(event_type: str) -> Callable[[WebhookHandler], WebhookHandler]:
    """Decorator: run the handler for every event of `event_type`. Registering the same function
    twice is a no-op (a module can be imported more than once in tests)."""

    def register(handler: WebhookHandler) -> WebhookHandler:
        handlers = _handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return register


def webhook_handler_unregister(event_type: str, handler: WebhookHandler) -> None:
    """For tests that register a handler of their own."""
    handlers = _handlers.get(event_type, [])
    if handler in handlers:
        handlers.remove(handler)


def webhook_handlers_for(event_type: str) -> list[WebhookHandler]:
    return list(_handlers.get(event_type, []))


def webhook_event_verify(
    *,
    payload: bytes,
    signature_header: str | None,
    secret: str,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
) -> dict[str, Any]:
    """The event in `payload`, as a plain dict, if the Stripe-Signature header signs this exact
    body with `secret` within the last `tolerance_seconds`.

    Raises WebhookRejected for a missing, malformed, wrong or stale signature (or no secret
    configured), a body that is not JSON, or JSON that is not an event.
    """
    try:
        stripe.Webhook.construct_event(
            payload, signature_header, secret, tolerance=tolerance_seconds
        )
        event = json.loads(payload)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"Invalid signature: {error.user_message}") from error
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise WebhookRejected("The body is not valid JSON.") from error
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise WebhookRejected("The body is not a Stripe event.")
    return event


def webhook_event_dispatch(event: StripeEvent) -> str:
    """Run every handler registered for the event's type, in registration order. Returns the
    notes they gave, or NO_HANDLER_NOTE when none is registered; handler exceptions propagate."""
    handlers = webhook_handlers_for(event.type)
    if not handlers:
        return NO_HANDLER_NOTE
    notes = [note for handler in handlers if (note := handler(event))]
    return "; ".join(notes)
