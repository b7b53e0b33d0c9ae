"""The Stripe gateway over HTTP, through the real `stripe` package, against the fake Stripe server:
what we send, idempotency replay, error mapping and retries, connected accounts."""

import pytest

from marketplace.payments.gateway import (
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    get_gateway,
)
from marketplace.payments.stripe_gateway import StripeGateway


@pytest.fixture
def gateway(fake_stripe):
    return get_gateway()


def pay(gateway, *, payment_method="pm_card_visa", key="payment:checkout:7", amount_minor=4599):
    return gateway.payment_create(
        amount_minor=amount_minor,
        currency="USD",
        transfer_group="checkout:7",
        idempotency_key=key,
        payment_method=payment_method,
        description="Agora checkout 7",
        metadata={"checkout": "7", "orders": "12,13"},
    )


def onboarded_account(gateway, fake_stripe, reference="seller-1"):
    account = gateway.connected_account_create(
        email=f"{reference}@example.com", country="US", reference=reference
    )
    fake_stripe.account_complete_onboarding(account.external_id)
    return account.external_id


def test_the_stripe_setting_selects_the_stripe_gateway(gateway):
    assert isinstance(gateway, StripeGateway)


# --- payments


def test_a_payment_is_a_confirmed_card_payment_intent_in_the_checkout_transfer_group(
    gateway, fake_stripe
):
    result = pay(gateway)

    (request,) = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert request.params == {
        "amount": "4599",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "payment_method_types": ["card"],
        "transfer_group": "checkout:7",
        "description": "Agora checkout 7",
        "metadata": {"checkout": "7", "orders": "12,13"},
    }
    assert request.headers["authorization"] == f"Bearer {fake_stripe.api_key}"
    assert request.idempotency_key == "payment:checkout:7"
    assert result.status == "succeeded"
    assert (result.amount_minor, result.currency) == (4599, "USD")
    intent = fake_stripe.payment_intents[result.id]
    assert result.charge_id == intent["latest_charge"]


def test_the_same_idempotency_key_twice_makes_one_payment_intent(gateway, fake_stripe):
    first = pay(gateway)
    second = pay(gateway)

    assert second == first
    assert len(fake_stripe.payment_intents) == 1
    replay = fake_stripe.requests_to("POST", "/v1/payment_intents")[1]
    assert replay.replayed and replay.idempotency_key == "payment:checkout:7"


def test_a_declined_card_raises_payment_declined_with_stripes_message(gateway, fake_stripe):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, payment_method="pm_card_chargeDeclined")

    assert declined.value.message == "Your card was declined."
    assert declined.value.decline_code == "generic_decline"
    (intent_id,) = fake_stripe.payment_intents
    assert declined.value.payment_id == intent_id
    # A decline is an answer, not a network error: sent once, never retried.
    assert len(fake_stripe.requests_to("POST", "/v1/payment_intents")) == 1


def test_an_insufficient_funds_decline_carries_its_decline_code(gateway):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, payment_method="pm_card_chargeDeclinedInsufficientFunds")

    assert declined.value.decline_code == "insufficient_funds"
    assert declined.value.message == "Your card has insufficient funds."


def test_a_declined_payment_reads_back_as_failed(gateway):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, payment_method="pm_card_visa_chargeDeclined")

    result = gateway.payment_retrieve(payment_id=declined.value.payment_id)

    assert result.status == "failed"
    assert (result.failure_code, result.failure_message) == (
        "generic_decline",
        "Your card was declined.",
    )


def test_a_card_that_needs_authentication_requires_action(gateway):
    assert pay(gateway, payment_method="pm_card_authenticationRequired").status == (
        "requires_action"
    )


def test_a_network_failure_is_retried_with_the_same_key_and_then_succeeds(gateway, fake_stripe):
    fake_stripe.fail_next(2)

    result = pay(gateway)

    attempts = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert [attempt.dropped for attempt in attempts] == [True, True, False]
    assert {attempt.idempotency_key for attempt in attempts} == {"payment:checkout:7"}
    assert result.status == "succeeded"


def test_an_answer_lost_after_the_payment_went_through_is_replayed_not_charged_twice(
    gateway, fake_stripe
):
    fake_stripe.fail_next(1, after_processing=True)

    result = pay(gateway)

    assert len(fake_stripe.payment_intents) == 1
    assert result.id in fake_stripe.payment_intents
    assert fake_stripe.requests_to("POST", "/v1/payment_intents")[-1].replayed


def test_a_persistent_network_failure_raises_gateway_unavailable_after_two_retries(
    gateway, fake_stripe
):
    fake_stripe.fail_next(10)

    with pytest.raises(GatewayUnavailable):
        pay(gateway)

    assert len(fake_stripe.requests_to("POST", "/v1/payment_intents")) == 3
    assert not fake_stripe.payment_intents


def test_a_key_reused_for_a_different_payment_is_a_gateway_error(gateway, fake_stripe):
    pay(gateway, amount_minor=4599)

    with pytest.raises(GatewayError) as error:
        pay(gateway, amount_minor=9999)

    assert error.value.code == "gateway_error"
    assert "same parameters" in error.value.message
    assert len(fake_stripe.payment_intents) == 1


def test_an_unknown_payment_method_is_a_gateway_error(gateway):
    with pytest.raises(GatewayError) as error:
        pay(gateway, payment_method="pm_nope")

    assert error.value.code == "resource_missing"


def test_a_wrong_secret_key_is_a_gateway_error(fake_stripe, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_wrong"

    with pytest.raises(GatewayError, match="Invalid API Key"):
        pay(get_gateway())


# --- transfers, refunds, reversals


def test_a_transfer_goes_to_the_connected_account_from_the_charge(gateway, fake_stripe):
    payment = pay(gateway)
    destination = onboarded_account(gateway, fake_stripe)

    result = gateway.transfer_create(
        amount_minor=4000,
        currency="USD",
        destination=destination,
        source_transaction=payment.charge_id,
        transfer_group="checkout:7",
        idempotency_key="transfer:seller-order:12",
    )

    (request,) = fake_stripe.requests_to("POST", "/v1/transfers")
    assert request.params == {
        "amount": "4000",
        "currency": "usd",
        "destination": destination,
        "source_transaction": payment.charge_id,
        "transfer_group": "checkout:7",
    }
    assert request.idempotency_key == "transfer:seller-order:12"
    assert (result.amount_minor, result.destination) == (4000, destination)
    assert result.id in fake_stripe.transfers


def test_the_same_transfer_key_twice_makes_one_transfer(gateway, fake_stripe):
    payment = pay(gateway)
    destination = onboarded_account(gateway, fake_stripe)

    results = {
        gateway.transfer_create(
            amount_minor=4000,
            currency="USD",
            destination=destination,
            source_transaction=payment.charge_id,
            transfer_group="checkout:7",
            idempotency_key="transfer:seller-order:12",
        )
        for _ in range(2)
    }

    assert len(results) == 1
    assert len(fake_stripe.transfers) == 1


def test_a_transfer_to_an_account_without_the_transfers_capability_is_a_gateway_error(
    gateway, fake_stripe
):
    payment = pay(gateway)
    account = gateway.connected_account_create(email="s@example.com", country="US", reference="s")

    with pytest.raises(GatewayError) as error:
        gateway.transfer_create(
            amount_minor=100,
            currency="USD",
            destination=account.external_id,
            source_transaction=payment.charge_id,
            transfer_group="checkout:7",
            idempotency_key="transfer:seller-order:12",
        )

    assert error.value.code == "insufficient_capabilities_for_transfer"
    assert not fake_stripe.transfers


def test_a_refund_names_the_payment_intent_and_the_amount(gateway, fake_stripe):
    payment = pay(gateway)

    result = gateway.refund_create(
        payment_id=payment.id, amount_minor=1000, idempotency_key="refund:return:3"
    )

    (request,) = fake_stripe.requests_to("POST", "/v1/refunds")
    assert request.params == {"payment_intent": payment.id, "amount": "1000"}
    assert request.idempotency_key == "refund:return:3"
    assert (result.amount_minor, result.status) == (1000, "succeeded")


def test_a_refund_above_what_is_left_is_a_gateway_error(gateway, fake_stripe):
    payment = pay(gateway, amount_minor=4599)
    gateway.refund_create(payment_id=payment.id, amount_minor=4000, idempotency_key="refund:1")

    with pytest.raises(GatewayError) as error:
        gateway.refund_create(payment_id=payment.id, amount_minor=600, idempotency_key="refund:2")

    assert error.value.code == "amount_too_large"
    assert len(fake_stripe.refunds) == 1


def test_a_transfer_reversal_names_the_transfer_and_the_amount(gateway, fake_stripe):
    payment = pay(gateway)
    transfer = gateway.transfer_create(
        amount_minor=4000,
        currency="USD",
        destination=onboarded_account(gateway, fake_stripe),
        source_transaction=payment.charge_id,
        transfer_group="checkout:7",
        idempotency_key="transfer:seller-order:12",
    )

    result = gateway.transfer_reversal_create(
        transfer_id=transfer.id, amount_minor=1500, idempotency_key="reversal:return:3"
    )

    (request,) = fake_stripe.requests_to("POST", f"/v1/transfers/{transfer.id}/reversals")
    assert request.params == {"amount": "1500"}
    assert request.idempotency_key == "reversal:return:3"
    assert result.amount_minor == 1500
    assert fake_stripe.transfers[transfer.id]["amount_reversed"] == 1500


def test_a_reversal_above_what_is_left_of_the_transfer_is_a_gateway_error(gateway, fake_stripe):
    payment = pay(gateway)
    transfer = gateway.transfer_create(
        amount_minor=4000,
        currency="USD",
        destination=onboarded_account(gateway, fake_stripe),
        source_transaction=payment.charge_id,
        transfer_group="checkout:7",
        idempotency_key="transfer:seller-order:12",
    )

    with pytest.raises(GatewayError):
        gateway.transfer_reversal_create(
            transfer_id=transfer.id, amount_minor=4001, idempotency_key="reversal:1"
        )

    assert not fake_stripe.reversals


# --- connected accounts


def test_a_seller_gets_an_express_account_with_card_payments_and_transfers(gateway, fake_stripe):
    account = gateway.connected_account_create(
        email="shop@example.com", country="GB", reference="seller-42"
    )

    (request,) = fake_stripe.requests_to("POST", "/v1/accounts")
    assert request.params == {
        "type": "express",
        "email": "shop@example.com",
        "country": "GB",
        "capabilities": {
            "card_payments": {"requested": "true"},
            "transfers": {"requested": "true"},
        },
        "metadata": {"reference": "seller-42"},
    }
    assert request.idempotency_key == "account:seller-42"
    assert account.external_id.startswith("acct_")
    assert not (account.charges_enabled or account.payouts_enabled or account.details_submitted)
    assert "external_account" in account.requirements_due


def test_an_onboarding_link_is_an_account_onboarding_account_link(gateway, fake_stripe):
    account = gateway.connected_account_create(email="s@example.com", country="US", reference="s")

    url = gateway.onboarding_link_create(
        external_id=account.external_id,
        return_url="https://agora.example/seller/payouts/return/",
        refresh_url="https://agora.example/seller/payouts/",
    )

    (request,) = fake_stripe.requests_to("POST", "/v1/account_links")
    assert request.params == {
        "account": account.external_id,
        "type": "account_onboarding",
        "refresh_url": "https://agora.example/seller/payouts/",
        "return_url": "https://agora.example/seller/payouts/return/",
    }
    assert url.startswith(fake_stripe.url + "/setup/e/" + account.external_id)


def test_a_finished_onboarding_reads_back_enabled_with_the_bank(gateway, fake_stripe):
    account = gateway.connected_account_create(email="s@example.com", country="US", reference="s")
    fake_stripe.account_complete_onboarding(account.external_id, bank_last4="4321")

    remote = gateway.connected_account_retrieve(external_id=account.external_id)

    assert remote.charges_enabled and remote.payouts_enabled and remote.details_submitted
    assert remote.requirements_due == []
    assert remote.bank_last4 == "4321"


def test_reading_an_unknown_account_is_a_gateway_error(gateway):
    with pytest.raises(GatewayError):
        gateway.connected_account_retrieve(external_id="acct_nope")
