"""The fake Stripe server itself: it must read and answer like Stripe, or the gateway tests prove
nothing."""

import json

import requests
import stripe

from tests.fake_stripe.server import form_decode, webhook_signature


def post(fake, path, data, *, key=None, api_key=None):
    headers = {"Authorization": f"Bearer {api_key or fake.api_key}"}
    if key:
        headers["Idempotency-Key"] = key
    session = requests.Session()
    session.trust_env = False  # loopback only, whatever proxy the environment names
    return session.post(fake.url + path, data=data, headers=headers, timeout=5)


def test_form_bodies_decode_into_nested_values():
    pairs = [
        ("amount", "100"),
        ("metadata[order]", "1"),
        ("capabilities[transfers][requested]", "true"),
        ("payment_method_types[0]", "card"),
        ("payment_method_types[1]", "link"),
    ]

    assert form_decode(pairs) == {
        "amount": "100",
        "metadata": {"order": "1"},
        "capabilities": {"transfers": {"requested": "true"}},
        "payment_method_types": ["card", "link"],
    }


def test_a_wrong_api_key_is_401(fake_stripe):
    response = post(fake_stripe, "/v1/accounts", {"type": "express"}, api_key="sk_test_nope")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_an_idempotency_key_reused_with_other_parameters_is_an_idempotency_error(fake_stripe):
    first = post(fake_stripe, "/v1/accounts", {"type": "express"}, key="k1")
    again = post(fake_stripe, "/v1/accounts", {"type": "express"}, key="k1")
    other = post(fake_stripe, "/v1/accounts", {"type": "custom"}, key="k1")

    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 400
    assert other.json()["error"]["type"] == "idempotency_error"
    assert len(fake_stripe.accounts) == 1


def test_a_decline_is_a_402_card_error_in_stripes_shape(fake_stripe):
    response = post(
        fake_stripe,
        "/v1/payment_intents",
        {
            "amount": 100,
            "currency": "usd",
            "payment_method": "pm_card_chargeDeclined",
            "confirm": "true",
        },
    )

    assert response.status_code == 402
    error = response.json()["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error",
        "card_declined",
        "generic_decline",
    )
    assert error["payment_intent"]["status"] == "requires_payment_method"


def test_an_unknown_url_is_a_404(fake_stripe):
    assert post(fake_stripe, "/v1/charges/x/capture", {}).status_code == 404


def test_webhook_signatures_verify_with_stripes_own_code(fake_stripe):
    event = fake_stripe.event_build("account.updated", {"id": "acct_1"})
    payload, header = fake_stripe.signed_payload(event)

    verified = stripe.Webhook.construct_event(payload, header, fake_stripe.webhook_secret)

    assert verified.id == event["id"]
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert header == webhook_signature(payload, fake_stripe.webhook_secret, timestamp)
    assert json.loads(payload) == event
