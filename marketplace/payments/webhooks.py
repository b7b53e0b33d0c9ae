"""Stripe webhooks: signature verification and the registry of handlers. No models here; storing
and processing events is marketplace.payments.webhook_services, the endpoint is webhook_views.

How an event travels: the view verifies the signature on the raw body and the event's envelope
(webhook_event_validate: a malformed one answers 400 and is stored nowhere), stores the event once
by its id and answers 200; a Celery task then locks the stored row, runs the handlers registered for
its type in one transaction and marks it processed. Repeated deliveries find the row and do
nothing; a failing handler leaves the event `failed` with its error, and Celery retries it.

Handlers live in the app that owns the data, because payments sits below every other app and
cannot import them. An app registers its handlers when it loads:

    # sellers/webhooks.py, imported from SellersConfig.ready()
    @webhook_handler_register("account.updated")
    def payout_account_updated(event: StripeEvent) -> str | None: ...

Registered today: `account.updated`, `transfer.reversed`, `transfer.failed`, `payout.paid` and
`payout.failed` (sellers/webhooks.py: the payout account's state and the payouts'),
`payment_intent.succeeded` and `payment_intent.payment_failed` (orders/webhooks.py: checkouts).
Still to register: `charge.refunded` (refunds, in orders). An event nobody handles is marked
processed with the note "no handler".

Rules for handlers:
- Run inside the transaction that holds the event's row lock; write through services; never call
  the payment provider (no network while holding locks): the event carries the object's snapshot.
- Deliveries come in any order. Read the state from `event.object` and apply only moves forward:
  compare `event.created` with a marker stored on our row, or move a status only along its
  transition table, so an older event arriving late changes nothing.
- Return None, or a short note saying why nothing was done ("stale", "unknown account"); raise to
  fail the event (it is retried).
- The envelope is checked before the event is stored (`event.object` is a dict, `event.created`
  a time), the object's contents are not: a value of an unexpected type makes a handler raise,
  which fails the event with its error like any other failure, after the request has answered.
"""

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe

from marketplace.errors import DomainError

SIGNATURE_TOLERANCE_SECONDS = 300
NO_HANDLER_NOTE = "no handler"

# The envelope's bounds. Lengths are those of the StripeWebhookEvent columns, so what passes fits.
EVENT_ID_PATTERN = re.compile(r"evt_[A-Za-z0-9_]{1,251}")
ACCOUNT_ID_PATTERN = re.compile(r"acct_[A-Za-z0-9_]{1,250}")
# Stripe's types are dotted lower-case words; any printable ASCII is let through so a type
# Stripe adds later is stored (and marked "no handler") rather than refused.
EVENT_TYPE_PATTERN = re.compile(r"[!-~]{1,100}")
# Stripe went live in 2011: an event from before 2010, or from more than a day ahead of our clock,
# is not one of Stripe's, and a far-future `created` would make every later event look stale.
EARLIEST_EVENT_CREATED = 1_262_304_000  # 2010-01-01
LATEST_EVENT_CREATED_AHEAD_SECONDS = 86_400
# Stripe's snapshots nest a handful of levels (event, data, object, a list, an item, its details);
# the bound keeps the walk below, the database's JSON parser and Python's recursion far from their
# limits.
MAX_PAYLOAD_DEPTH = 64


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
    body with `secret` within the last `tolerance_seconds` and the body is a well-formed event.

    Raises WebhookRejected for a missing, malformed, wrong or stale signature (or no secret
    configured), a body that is not JSON, or JSON that is not an event (webhook_event_validate).
    """
    try:
        # Only the signature: the package's construct_event also builds an Event from the body and
        # fails with arbitrary errors on JSON that is not one; the body is checked below instead.
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, tolerance=tolerance_seconds
        )
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(f"Invalid signature: {error.user_message}") from error
    except ValueError as error:  # UnicodeDecodeError: the signature covers UTF-8 text
        raise WebhookRejected("The body is not valid JSON.") from error
    try:
        event = json.loads(
            payload.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float
        )
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError, ints too long to read
        raise WebhookRejected("The body is not valid JSON.") from error
    except RecursionError as error:
        raise WebhookRejected("The body is nested too deeply.") from error
    return webhook_event_validate(event)


def _refuse_constant(name: str) -> float:
    # NaN and Infinity: Python reads them, but they are not JSON and no database stores them.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 reads as infinity
        raise ValueError(f"{text} is out of range")
    return number


def webhook_event_validate(event: Any) -> dict[str, Any]:
    """`event` itself if it is a well-formed Stripe event, else WebhookRejected with a short
    reason. Everything stored or processed passes here first, so the rest of the code may trust
    the envelope's shape: `id` an event id, `type` a short printable string, `created` a Unix
    time in range, `data.object` (and `data.previous_attributes`, if given) objects, `livemode` a
    bool and `account` an account id when given. The contents of `data.object` are Stripe's
    business and are not checked, except for what no database can store: NUL characters, lone
    surrogates, non-finite numbers and nesting beyond MAX_PAYLOAD_DEPTH."""
    if not isinstance(event, dict):
        raise WebhookRejected("The body is not a Stripe event.")
    event_id, event_type = event.get("id"), event.get("type")
    if not event_id or not event_type:
        raise WebhookRejected("The body is not a Stripe event.")
    if not isinstance(event_id, str) or not EVENT_ID_PATTERN.fullmatch(event_id):
        raise WebhookRejected("The event id is malformed.")
    if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.fullmatch(event_type):
        raise WebhookRejected("The event type is malformed.")
    created = event.get("created")
    # bool is an int in Python; `true` is not a time.
    if not isinstance(created, int) or isinstance(created, bool):
        raise WebhookRejected("The event's created time is not a Unix time.")
    if not EARLIEST_EVENT_CREATED <= created <= time.time() + LATEST_EVENT_CREATED_AHEAD_SECONDS:
        raise WebhookRejected("The event's created time is out of range.")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookRejected("The event's data.object is not an object.")
    if data.get("previous_attributes") is not None and not isinstance(
        data["previous_attributes"], dict
    ):
        raise WebhookRejected("The event's data.previous_attributes is not an object.")
    if event.get("livemode") is not None and not isinstance(event["livemode"], bool):
        raise WebhookRejected("The event's livemode is not a boolean.")
    account = event.get("account")
    if account is not None and not (
        isinstance(account, str) and ACCOUNT_ID_PATTERN.fullmatch(account)
    ):
        raise WebhookRejected("The event's account is malformed.")
    _check_storable(event, depth=1)
    return event


def _check_storable(value: Any, *, depth: int) -> None:
    """Refuse what PostgreSQL's jsonb (and SQLite's JSON) cannot hold, wherever it is."""
    if depth > MAX_PAYLOAD_DEPTH:
        raise WebhookRejected("The event is nested too deeply.")
    if isinstance(value, str):
        _check_storable_text(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise WebhookRejected("The event holds a number out of range.")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):  # only from Python callers: JSON keys are strings
                raise WebhookRejected("The event holds a key that is not text.")
            _check_storable_text(key)
            _check_storable(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth=depth + 1)


def _check_storable_text(text: str) -> None:
    if "\x00" in text:
        raise WebhookRejected("The event holds a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, from an escape such as \ud800
        raise WebhookRejected("The event holds an invalid character.") from error


def webhook_event_dispatch(event: StripeEvent) -> str:
    """Run every handler registered for the event's type, in registration order. Returns the
    notes they gave, or NO_HANDLER_NOTE when none is registered; handler exceptions propagate."""
    handlers = webhook_handlers_for(event.type)
    if not handlers:
        return NO_HANDLER_NOTE
    notes = [note for handler in handlers if (note := handler(event))]
    return "; ".join(notes)
