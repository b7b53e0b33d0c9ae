"""Correctly signed but malformed webhook bodies are refused with 400 and stored nowhere: the
envelope (id, type, created, data, livemode, account) is checked in one place before anything is
written. Well-formed events whose object holds odd values are stored, and a handler tripping over
those values leaves the event `failed` with its error instead of breaking the request."""

import json
import time

import pytest

from marketplace.payments import webhook_services
from marketplace.payments.models import StripeWebhookEvent
from marketplace.payments.webhooks import (
    MAX_PAYLOAD_DEPTH,
    WebhookRejected,
    webhook_event_validate,
    webhook_handler_register,
    webhook_handler_unregister,
)
from tests.fake_stripe.server import webhook_signature

pytestmark = pytest.mark.django_db

URL = "/webhooks/stripe/"


def post_signed(client, secret: str, body: str):
    header = webhook_signature(body, secret, int(time.time()))
    return client.post(
        URL,
        data=body.encode(),
        content_type="application/json",
        headers={"Stripe-Signature": header},
    )


def envelope(**changes) -> dict:
    """A well-formed event, with `changes` applied (a value of `...` removes the field)."""
    event = {
        "id": "evt_1OdDkt2eZvKYlo2C",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "data": {"object": {"id": "obj_1", "object": "thing"}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "test.happened",
    }
    for key, value in changes.items():
        if value is ...:
            event.pop(key, None)
        else:
            event[key] = value
    return event


MALFORMED = {
    "array body": [envelope()],
    "empty array": [],
    "string body": "evt_1",
    "null body": None,
    "number body": 42,
    "created as text": envelope(created="1700000000"),
    "created as words": envelope(created="yesterday"),
    "created far out of range": envelope(created=10**20),
    "created negative": envelope(created=-1),
    "created before Stripe": envelope(created=1000),
    "created far in the future": envelope(created=int(time.time()) + 10 * 365 * 86400),
    "created as a float": envelope(created=1700000000.5),
    "created as a bool": envelope(created=True),
    "created missing": envelope(created=...),
    "data as a string": envelope(data="object"),
    "data as a list": envelope(data=[{"object": {}}]),
    "data missing": envelope(data=...),
    "data.object as a list": envelope(data={"object": [{"id": "obj_1"}]}),
    "data.object as a string": envelope(data={"object": "obj_1"}),
    "data.object missing": envelope(data={}),
    "data.object null": envelope(data={"object": None}),
    "previous_attributes as a list": envelope(data={"object": {}, "previous_attributes": [1]}),
    "a 300-character type": envelope(type="t" * 300),
    "a type with a NUL": envelope(type="test.\x00happened"),
    "a type with a space": envelope(type="test happened"),
    "an empty type": envelope(type=""),
    "a numeric type": envelope(type=42),
    "type missing": envelope(type=...),
    "a 1,000-character id": envelope(id="evt_" + "a" * 1000),
    "an id with a NUL": envelope(id="evt_1\x00"),
    "an id that is not an event's": envelope(id="pi_123"),
    "an id with unicode": envelope(id="evt_ü"),
    "an empty id": envelope(id=""),
    "a numeric id": envelope(id=12345),
    "id missing": envelope(id=...),
    "livemode as text": envelope(livemode="false"),
    "livemode as a number": envelope(livemode=1),
    "account as a number": envelope(account=42),
    "account with a NUL": envelope(account="acct_1\x00"),
    "a 300-character account": envelope(account="acct_" + "a" * 300),
    "account that is not an account id": envelope(account="cus_123"),
    "a NUL deep in the object": envelope(data={"object": {"metadata": {"note": "a\x00b"}}}),
    "a NUL in a key": envelope(data={"object": {"meta\x00data": "x"}}),
    "nesting deeper than allowed": envelope(
        data={"object": json.loads("[" * MAX_PAYLOAD_DEPTH + "]" * MAX_PAYLOAD_DEPTH)}
    ),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_but_malformed_event_is_400_and_stored_nowhere(client, fake_stripe, body):
    response = post_signed(client, fake_stripe.webhook_secret, json.dumps(body))

    assert response.status_code == 400
    assert response.json()["error"]
    assert len(response.json()["error"]) < 100  # a short reason, not the payload echoed back
    assert not StripeWebhookEvent.objects.exists()


RAW_MALFORMED = {
    "a lone surrogate": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": '
    '{"name": "\\ud800"}}}',
    "NaN": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": {"amount": NaN}}}',
    "Infinity": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": '
    '{"amount": -Infinity}}}',
    "a float too big": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": '
    '{"amount": 1e999}}}',
    "an escaped NUL": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": '
    '{"x": "\\u0000"}}}',
    "an int too long to read": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": '
    '{"amount": ' + "9" * 5000 + "}}}",
    "nesting that overflows the parser": '{"id": "evt_1", "type": "t.x", "created": %d, "data": '
    '{"object": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}}",
    "not UTF-8": '{"id": "evt_1", "type": "t.x", "created": %d, "data": {"object": {}}, "x": "\xff"}',
}


@pytest.mark.parametrize("body", RAW_MALFORMED.values(), ids=RAW_MALFORMED.keys())
def test_signed_json_nobody_can_store_is_400(client, fake_stripe, body):
    body = body % int(time.time())
    if "\xff" in body:
        payload = body.encode("latin-1")
        header = webhook_signature(body, fake_stripe.webhook_secret, int(time.time()))
        response = client.post(
            URL, data=payload, content_type="application/json", headers={"Stripe-Signature": header}
        )
    else:
        response = post_signed(client, fake_stripe.webhook_secret, body)

    assert response.status_code == 400
    assert not StripeWebhookEvent.objects.exists()


ACCEPTED = {
    "the usual event": envelope(),
    "a connected account": envelope(account="acct_1Nv0FGQ9RKHgCVdK"),
    "account null (the platform's own)": envelope(account=None),
    "livemode true": envelope(livemode=True),
    "livemode missing": envelope(livemode=...),
    "previous attributes": envelope(data={"object": {}, "previous_attributes": {"a": 1}}),
    "an empty object": envelope(data={"object": {}}),
    "odd values inside the object": envelope(
        data={"object": {"amount": 10**30, "metadata": [1, "x"], "currency": {"a": None}}}
    ),
    "unicode inside the object": envelope(data={"object": {"name": "Zoë 🫖 ﷽"}}),
}


@pytest.mark.parametrize("body", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_well_formed_events_are_accepted_and_stored(client, fake_stripe, body):
    response = post_signed(client, fake_stripe.webhook_secret, json.dumps(body))

    assert response.status_code == 200
    stored = StripeWebhookEvent.objects.get()
    assert stored.payload == body
    assert stored.event_id == body["id"]
    assert stored.account == (body.get("account") or "")


def test_the_service_refuses_a_malformed_envelope_too(fake_stripe):
    with pytest.raises(WebhookRejected):
        webhook_services.stripe_webhook_event_record(payload=envelope(type="t" * 300))

    assert not StripeWebhookEvent.objects.exists()


def test_the_validation_returns_the_event_it_was_given():
    event = envelope()

    assert webhook_event_validate(event) is event


# --- Handlers given odd objects: the failure is recorded on the event, the request answers 200.

ODD_OBJECTS = [
    ("account.updated", {"id": ["acct_1"]}),
    ("account.updated", {"id": "acct_1", "requirements": "none", "external_accounts": [1]}),
    ("account.updated", {}),
    ("payment_intent.succeeded", {"metadata": ["checkout_id"], "amount": "lots"}),
    ("payment_intent.succeeded", {"metadata": {"checkout_id": {"x": 1}}, "transfer_group": 5}),
    ("payment_intent.payment_failed", {"transfer_group": "checkout-1", "last_payment_error": "x"}),
    ("payment_intent.payment_failed", {"metadata": "checkout-1"}),
]


@pytest.mark.parametrize(("event_type", "obj"), ODD_OBJECTS)
def test_a_handler_tripping_over_odd_values_fails_the_event_not_the_request(
    client, fake_stripe, django_capture_on_commit_callbacks, event_type, obj
):
    body = envelope(type=event_type, data={"object": obj}, account="acct_1")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, fake_stripe.webhook_secret, json.dumps(body))

    assert response.status_code == 200
    stored = StripeWebhookEvent.objects.get()
    # Either a handler could make sense of it (a note says why nothing was done), or the error
    # is recorded for the retry; never left as if it had not been tried.
    assert stored.status in (StripeWebhookEvent.Status.PROCESSED, StripeWebhookEvent.Status.FAILED)
    assert stored.attempts == 1
    if stored.status == StripeWebhookEvent.Status.FAILED:
        assert stored.last_error


def test_an_error_message_with_characters_the_database_refuses_is_still_recorded(fake_stripe):
    def handler(event):
        raise RuntimeError("bad\x00value \udc80 here")

    webhook_handler_register("test.happened")(handler)
    try:
        stored, _ = webhook_services.stripe_webhook_event_record(payload=envelope())
        with pytest.raises(RuntimeError):
            webhook_services.stripe_webhook_event_process(event_pk=stored.pk)
    finally:
        webhook_handler_unregister("test.happened", handler)

    stored.refresh_from_db()
    assert stored.status == StripeWebhookEvent.Status.FAILED
    assert stored.last_error.startswith("RuntimeError: bad")
    assert "\x00" not in stored.last_error
