"""Fuzzing the webhook endpoint: correctly signed bodies mixing valid and invalid envelope fields,
arbitrary text (NUL included), big and non-finite numbers, nested lists and objects. Whatever
arrives, the answer is never a server error; a 400 stores nothing; a 200 stores the event, and
its processing (the real handlers, run on commit) either finishes or records its error."""

import json
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marketplace.payments.models import StripeWebhookEvent
from orders.services.checkout import checkout_place
from sellers.models import PayoutAccount
from tests.accounts.factories import UserFactory
from tests.fake_stripe.server import webhook_signature
from tests.orders.factories import BuyerAddressFactory, buyable_sku, cart_with
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/stripe/"
SECRET = "whsec_fuzz_only"
PAYOUT_ACCOUNT_ID = "acct_fuzzPayout1"
HANDLED_TYPES = ["account.updated", "payment_intent.succeeded", "payment_intent.payment_failed"]

# Text as it comes: any code point but lone surrogates (which JSON text cannot carry unescaped;
# test_webhook_envelope sends the escaped form), with NUL and friends made likely.
text = st.text(max_size=12) | st.sampled_from(["", "\x00", "a\x00b", "evt_\x00", "\x1f\x7f", "☃"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**40, 0, -1])
    | st.floats()  # NaN and infinities included: they must be refused, not stored
    | text
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)
# Some nesting deeper than any limit, now and then.
deep = st.integers(min_value=1, max_value=80).map(lambda n: json.loads("[" * n + "]" * n))


def maybe(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a valid value (seven times in eight), else anything."""
    return st.one_of(*[valid] * 7, values)


# What the generated events may name, filled in by the `targets` fixture before the first example.
# Read when a value is drawn (st.builds), so the strategies' shape never depends on it.
TARGET: dict = {}


def target(key: str, render=lambda value: value) -> st.SearchStrategy:
    return st.builds(lambda: render(TARGET[key]))


event_ids = st.from_regex(r"evt_[A-Za-z0-9_]{1,24}", fullmatch=True)
account_ids = st.sampled_from([PAYOUT_ACCOUNT_ID, "acct_other"]) | st.from_regex(
    r"acct_[A-Za-z0-9]{1,16}", fullmatch=True
)
# Objects shaped like the ones the handlers read, with fields of any type mixed in.
objects = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(st.sampled_from([PAYOUT_ACCOUNT_ID, "pi_fuzz", "acct_nobody"])),
        "object": maybe(st.sampled_from(["payment_intent", "account"])),
        "amount": maybe(target("amount") | st.just(1)),
        "currency": maybe(target("currency", str.lower) | st.just("eur")),
        "metadata": maybe(
            st.fixed_dictionaries({"checkout_id": maybe(target("checkout_id", str))})
        ),
        "transfer_group": maybe(target("checkout_id", "checkout-{}".format) | st.just("checkout-")),
        "latest_charge": maybe(st.just("ch_fuzz")),
        "last_payment_error": maybe(st.fixed_dictionaries({"message": text})),
        "charges_enabled": values,
        "payouts_enabled": values,
        "details_submitted": values,
        "requirements": maybe(
            st.fixed_dictionaries({}, optional={"currently_due": values, "past_due": values})
        ),
        "external_accounts": maybe(
            st.fixed_dictionaries(
                {"data": st.lists(values | st.fixed_dictionaries({"last4": values}), max_size=2)}
            )
        ),
        "extra": values | deep,
    },
)
event_data = st.fixed_dictionaries(
    {"object": maybe(objects)}, optional={"previous_attributes": maybe(st.just({"a": 1}))}
)
# `created` relative to the clock when drawn, within the last 30 days.
recent = st.integers(min_value=0, max_value=30 * 86400).map(lambda ago: int(time.time()) - ago)


def envelopes(field: Callable[[st.SearchStrategy], st.SearchStrategy]) -> st.SearchStrategy:
    """Events whose fields are drawn through `field` (valid as given, or `maybe`)."""
    return st.fixed_dictionaries(
        {
            "id": field(event_ids),
            "type": field(st.sampled_from([*HANDLED_TYPES, "issuing_card.created"])),
            "created": field(recent),
            "data": field(event_data),
        },
        optional={
            "object": field(st.just("event")),
            "livemode": field(st.booleans()),
            "account": field(account_ids | st.none()),
            "pending_webhooks": values,
        },
    )


# Now and then a required field goes missing; unknown fields of any kind come along.
missing = st.one_of(*[st.none()] * 7, st.sampled_from(["id", "type", "created", "data"]))
mixed = st.tuples(envelopes(maybe), missing, st.dictionaries(text, values, max_size=3)).map(
    lambda parts: {key: value for key, value in {**parts[2], **parts[0]}.items() if key != parts[1]}
)
# Well-formed envelopes (what the objects hold is still anything), events with some fields wrong
# or missing, and any JSON at all (arrays, strings, numbers, null).
bodies = st.one_of(envelopes(lambda valid: valid), mixed, values)


@pytest.fixture
def targets(settings):
    """A failed checkout and a payout account the generated events may name, so the handlers go
    past their first lookup (the local gateway places the checkout; nothing reaches Stripe)."""
    settings.PAYMENT_GATEWAY = "local"
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method="4000000000000002"
    )
    PayoutAccount.objects.create(
        seller=ApprovedSellerFactory(), gateway="stripe", external_id=PAYOUT_ACCOUNT_ID
    )
    TARGET.update(checkout_id=checkout.id, amount=checkout.total_minor, currency=checkout.currency)
    yield checkout
    TARGET.clear()


@settings(
    max_examples=200,
    deadline=None,
    database=None,  # no example database left in the working tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(body=bodies, ensure_ascii=st.booleans())
def test_no_signed_body_makes_the_webhook_fail(
    client, targets, django_capture_on_commit_callbacks, body, ensure_ascii
):
    # NaN and Infinity come out as the non-JSON words Python reads; without ensure_ascii, control
    # characters arrive raw inside strings, which JSON forbids.
    payload = json.dumps(body, ensure_ascii=ensure_ascii)
    header = webhook_signature(payload, SECRET, int(time.time()))
    stored_before = StripeWebhookEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            data=payload.encode(),
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )

    # A server error would have raised out of the test client; the answer is one of these two.
    assert response.status_code in (200, 400), response.content
    answer = response.json()
    # The mix of outcomes, for --hypothesis-show-statistics.
    event(f"answered {response.status_code}: {answer.get('error', 'stored')}")
    if response.status_code == 400:
        assert answer["error"]
        assert StripeWebhookEvent.objects.count() == stored_before
        return
    assert answer["received"] is True
    stored = StripeWebhookEvent.objects.get(event_id=body["id"])
    if answer["duplicate"]:
        # An id seen in an earlier example: the first delivery's row stands, nothing is added.
        assert StripeWebhookEvent.objects.count() == stored_before
    else:
        assert StripeWebhookEvent.objects.count() == stored_before + 1
        assert (stored.type, stored.account) == (body["type"], body.get("account") or "")
        # Processed, or failed with the error kept for the retry; never left untried.
        assert stored.status in (
            StripeWebhookEvent.Status.PROCESSED,
            StripeWebhookEvent.Status.FAILED,
        )
        assert stored.attempts == 1
        event(f"{stored.type}: {stored.status} {stored.note or stored.last_error[:60]}")
        assert stored.status == StripeWebhookEvent.Status.PROCESSED or stored.last_error
