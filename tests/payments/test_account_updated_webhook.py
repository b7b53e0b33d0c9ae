"""`account.updated` keeps the seller's payout account in step with Stripe, and an older event
delivered late never undoes a newer one. (The handler lives in sellers/webhooks.py and registers
itself with the payments core when the sellers app loads.)"""

import time
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from marketplace.payments.models import StripeWebhookEvent
from sellers.models import PayoutAccount
from sellers.services.setup import payout_account_connect
from tests.sellers.factories import ApprovedSellerFactory

URL = "/webhooks/stripe/"


@pytest.fixture
def payout_account(fake_stripe):
    seller = ApprovedSellerFactory()
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")
    return PayoutAccount.objects.get(seller=seller)


def account_state(fake_stripe, external_id, **changes):
    state = dict(fake_stripe.accounts[external_id])
    state.update(changes)
    return state


def deliver(client, fake_stripe, event, capture):
    payload, header = fake_stripe.signed_payload(event)
    with capture(execute=True):
        response = client.post(
            URL, data=payload, content_type="application/json", headers={"Stripe-Signature": header}
        )
    assert response.status_code == 200
    return StripeWebhookEvent.objects.get(event_id=event["id"])


@pytest.mark.django_db
def test_the_seller_connects_a_stripe_express_account(payout_account, fake_stripe):
    assert payout_account.gateway == "stripe"
    assert payout_account.external_id in fake_stripe.accounts
    assert payout_account.status == PayoutAccount.Status.ONBOARDING


@pytest.mark.django_db
def test_finished_onboarding_makes_the_payout_account_active(
    client, fake_stripe, payout_account, django_capture_on_commit_callbacks
):
    fake_stripe.account_complete_onboarding(payout_account.external_id, bank_last4="1234")
    (event,) = fake_stripe.events

    stored = deliver(client, fake_stripe, event, django_capture_on_commit_callbacks)

    assert stored.status == StripeWebhookEvent.Status.PROCESSED and stored.note == ""
    payout_account.refresh_from_db()
    assert payout_account.status == PayoutAccount.Status.ACTIVE
    assert payout_account.charges_enabled and payout_account.payouts_enabled
    assert payout_account.requirements_due == []
    assert payout_account.bank_last4 == "1234"
    assert payout_account.gateway_updated_at == datetime.fromtimestamp(event["created"], tz=UTC)


@pytest.mark.django_db
def test_an_older_event_arriving_after_a_newer_one_changes_nothing(
    client, fake_stripe, payout_account, django_capture_on_commit_callbacks
):
    external_id = payout_account.external_id
    now = int(time.time())
    active = account_state(
        fake_stripe, external_id, charges_enabled=True, payouts_enabled=True, details_submitted=True
    )
    restricted = account_state(
        fake_stripe,
        external_id,
        charges_enabled=False,
        payouts_enabled=False,
        details_submitted=True,
        requirements={"currently_due": ["individual.verification.document"], "past_due": []},
    )
    older = fake_stripe.event_build(
        "account.updated", active, account=external_id, created=now - 60
    )
    newer = fake_stripe.event_build("account.updated", restricted, account=external_id, created=now)

    deliver(client, fake_stripe, newer, django_capture_on_commit_callbacks)
    late = deliver(client, fake_stripe, older, django_capture_on_commit_callbacks)

    payout_account.refresh_from_db()
    assert payout_account.status == PayoutAccount.Status.RESTRICTED
    assert not payout_account.charges_enabled
    assert payout_account.requirements_due == ["individual.verification.document"]
    assert payout_account.gateway_updated_at == datetime.fromtimestamp(now, tz=UTC)
    assert late.status == StripeWebhookEvent.Status.PROCESSED
    assert late.note.startswith("stale")


@pytest.mark.django_db
def test_events_in_order_each_apply(
    client, fake_stripe, payout_account, django_capture_on_commit_callbacks
):
    external_id = payout_account.external_id
    now = int(time.time())
    submitted = account_state(fake_stripe, external_id, details_submitted=True)
    active = account_state(
        fake_stripe, external_id, charges_enabled=True, payouts_enabled=True, details_submitted=True
    )

    deliver(
        client,
        fake_stripe,
        fake_stripe.event_build("account.updated", submitted, created=now - 60),
        django_capture_on_commit_callbacks,
    )
    payout_account.refresh_from_db()
    assert payout_account.status == PayoutAccount.Status.RESTRICTED

    deliver(
        client,
        fake_stripe,
        fake_stripe.event_build("account.updated", active, created=now),
        django_capture_on_commit_callbacks,
    )
    payout_account.refresh_from_db()
    assert payout_account.status == PayoutAccount.Status.ACTIVE


@pytest.mark.django_db
def test_an_event_without_bank_details_keeps_the_known_bank(
    client, fake_stripe, payout_account, django_capture_on_commit_callbacks
):
    PayoutAccount.objects.filter(pk=payout_account.pk).update(bank_last4="9876")
    state = account_state(fake_stripe, payout_account.external_id, charges_enabled=True)
    del state["external_accounts"]

    deliver(
        client,
        fake_stripe,
        fake_stripe.event_build("account.updated", state),
        django_capture_on_commit_callbacks,
    )

    payout_account.refresh_from_db()
    assert payout_account.bank_last4 == "9876"
    assert payout_account.charges_enabled


@pytest.mark.django_db
def test_an_event_for_an_account_we_do_not_know_is_processed_with_a_note(
    client, fake_stripe, django_capture_on_commit_callbacks
):
    event = fake_stripe.event_build("account.updated", {"id": "acct_unknown", "object": "account"})

    stored = deliver(client, fake_stripe, event, django_capture_on_commit_callbacks)

    assert stored.status == StripeWebhookEvent.Status.PROCESSED
    assert stored.note == "no payout account acct_unknown"


@pytest.mark.django_db(transaction=True)
def test_onboarding_end_to_end_over_http(live_server, fake_stripe):
    """The seller follows the account link to (fake) Stripe, finishes onboarding there, and
    Stripe's signed webhook reaches our running server, which activates the payout account."""
    seller = ApprovedSellerFactory()
    link = payout_account_connect(seller=seller, actor=seller.owner, site_root=live_server.url)
    assert link.startswith(fake_stripe.url)
    return_url = fake_stripe.hosted_onboarding(link.removeprefix(fake_stripe.url))
    assert return_url == live_server.url + reverse("seller_center:payout_return")
    (event,) = [event for event in fake_stripe.events if event["type"] == "account.updated"]

    status, body = fake_stripe.send_webhook(live_server.url + URL, event)

    assert status == 200, body
    account = PayoutAccount.objects.get(seller=seller)
    assert account.status == PayoutAccount.Status.ACTIVE
    assert account.bank_last4 == "6789"
