"""The local test-mode gateway moves money like Stripe would: test cards decide a payment's
outcome, an idempotency key replays the first result, transfers need an onboarded seller, and
refunds and reversals cannot take back more than was paid."""

import pytest

from marketplace.payments.gateway import GatewayError, PaymentDeclined, get_gateway
from marketplace.payments.local import LocalGateway
from marketplace.payments.models import (
    LocalConnectedAccount,
    LocalPayment,
    LocalRefund,
    LocalTransfer,
    LocalTransferReversal,
)

pytestmark = pytest.mark.django_db

VISA = "4242424242424242"


@pytest.fixture
def gateway():
    return LocalGateway()


def pay(gateway, *, card=VISA, key="payment:checkout:1", amount_minor=5000, currency="USD"):
    return gateway.payment_create(
        amount_minor=amount_minor,
        currency=currency,
        transfer_group="checkout:1",
        idempotency_key=key,
        payment_method=card,
        description="Checkout 1",
        metadata={"checkout": "1"},
    )


def onboarded_account(reference="seller-1"):
    return LocalConnectedAccount.objects.create(
        external_id=f"acct_local_{reference}",
        email=f"{reference}@example.com",
        country="US",
        details_submitted=True,
        bank_last4="6789",
    )


def transfer(gateway, payment, account, *, amount_minor=3000, key="transfer:line:1"):
    return gateway.transfer_create(
        amount_minor=amount_minor,
        currency="USD",
        destination=account.external_id,
        source_transaction=payment.charge_id,
        transfer_group="checkout:1",
        idempotency_key=key,
    )


def test_the_local_gateway_is_the_default(settings):
    settings.PAYMENT_GATEWAY = "local"

    assert isinstance(get_gateway(), LocalGateway)


def test_the_4242_card_succeeds(gateway):
    result = pay(gateway)

    assert result.status == "succeeded"
    assert (result.amount_minor, result.currency) == (5000, "USD")
    assert result.id.startswith("pi_local_") and result.charge_id.startswith("ch_local_")
    payment = LocalPayment.objects.get()
    assert payment.card_last4 == "4242"
    assert (payment.transfer_group, payment.metadata) == ("checkout:1", {"checkout": "1"})


def test_card_numbers_may_be_typed_with_spaces(gateway):
    assert pay(gateway, card="4242 4242 4242 4242").status == "succeeded"


def test_the_full_card_number_is_never_stored(gateway):
    pay(gateway)

    assert VISA not in str(LocalPayment.objects.values().get())


@pytest.mark.parametrize(
    ("card", "decline_code", "message"),
    [
        ("4000000000000002", "card_declined", "Your card was declined."),
        ("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        ("4000000000000069", "expired_card", "Your card has expired."),
        ("4242424242424241", "incorrect_number", "Your card number is incorrect."),
        ("424242424242", "incorrect_number", "Your card number is incorrect."),
        ("not a card", "incorrect_number", "Your card number is incorrect."),
    ],
)
def test_test_cards_decide_the_decline(gateway, card, decline_code, message):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, card=card)

    assert declined.value.message == message
    assert declined.value.decline_code == decline_code
    payment = LocalPayment.objects.get()
    assert payment.status == LocalPayment.Status.FAILED
    assert declined.value.payment_id == payment.external_id
    assert payment.failure_code == decline_code


def test_the_same_key_returns_the_same_payment_without_a_second_row(gateway):
    first = pay(gateway)
    second = pay(gateway)

    assert second == first
    assert LocalPayment.objects.count() == 1


def test_a_replayed_decline_is_the_same_decline(gateway):
    for _ in range(2):
        with pytest.raises(PaymentDeclined, match=r"Your card was declined\."):
            pay(gateway, card="4000000000000002")

    assert LocalPayment.objects.count() == 1


def test_a_new_key_is_a_new_payment(gateway):
    pay(gateway, key="payment:checkout:1")
    pay(gateway, key="payment:checkout:2")

    assert LocalPayment.objects.count() == 2


def test_a_key_reused_for_another_amount_is_refused(gateway):
    pay(gateway, amount_minor=5000)

    with pytest.raises(GatewayError) as error:
        pay(gateway, amount_minor=6000)

    assert error.value.code == "idempotency_key_reused"
    assert LocalPayment.objects.get().amount_minor == 5000


@pytest.mark.parametrize("amount_minor", [0, -100])
def test_a_payment_must_be_for_a_positive_amount(gateway, amount_minor):
    with pytest.raises(GatewayError):
        pay(gateway, amount_minor=amount_minor)

    assert not LocalPayment.objects.exists()


def test_an_unknown_currency_is_refused(gateway):
    with pytest.raises(GatewayError):
        pay(gateway, currency="XXX")

    assert not LocalPayment.objects.exists()


def test_a_payment_can_be_read_back(gateway):
    payment = pay(gateway)

    assert gateway.payment_retrieve(payment_id=payment.id) == payment


# --- transfers


def test_a_transfer_goes_to_an_onboarded_account(gateway):
    payment = pay(gateway)
    account = onboarded_account()

    result = transfer(gateway, payment, account)

    assert (result.amount_minor, result.destination) == (3000, account.external_id)
    stored = LocalTransfer.objects.get()
    assert stored.source_payment.external_id == payment.id
    assert stored.transfer_group == "checkout:1"


def test_a_transfer_to_an_account_still_onboarding_is_refused(gateway):
    payment = pay(gateway)
    account = onboarded_account()
    LocalConnectedAccount.objects.filter(pk=account.pk).update(details_submitted=False)

    with pytest.raises(GatewayError, match="has not finished onboarding"):
        transfer(gateway, payment, account)

    assert not LocalTransfer.objects.exists()


def test_a_transfer_to_an_unknown_account_is_refused(gateway):
    payment = pay(gateway)

    with pytest.raises(GatewayError, match="No such destination"):
        gateway.transfer_create(
            amount_minor=100,
            currency="USD",
            destination="acct_local_nobody",
            source_transaction=payment.charge_id,
            transfer_group="checkout:1",
            idempotency_key="transfer:line:1",
        )

    assert not LocalTransfer.objects.exists()


def test_transfers_cannot_take_more_than_their_source_charge(gateway):
    payment = pay(gateway, amount_minor=5000)
    first, second = onboarded_account("seller-1"), onboarded_account("seller-2")
    transfer(gateway, payment, first, amount_minor=3000, key="transfer:line:1")

    with pytest.raises(GatewayError, match="exceeds what is left"):
        transfer(gateway, payment, second, amount_minor=2001, key="transfer:line:2")

    transfer(gateway, payment, second, amount_minor=2000, key="transfer:line:2")
    assert LocalTransfer.objects.count() == 2


def test_a_declined_payment_cannot_fund_a_transfer(gateway):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, card="4000000000000002")
    failed = LocalPayment.objects.get(external_id=declined.value.payment_id)

    with pytest.raises(GatewayError):
        transfer(gateway, failed, onboarded_account())

    assert not LocalTransfer.objects.exists()


def test_the_same_transfer_key_makes_one_transfer(gateway):
    payment = pay(gateway)
    account = onboarded_account()

    first = transfer(gateway, payment, account)
    second = transfer(gateway, payment, account)

    assert first == second
    assert LocalTransfer.objects.count() == 1


# --- refunds


def test_refunds_cannot_exceed_the_payment_minus_earlier_refunds(gateway):
    payment = pay(gateway, amount_minor=5000)
    gateway.refund_create(payment_id=payment.id, amount_minor=3000, idempotency_key="refund:1")

    with pytest.raises(GatewayError, match=r"exceeds what is left of the payment \(\$20.00\)"):
        gateway.refund_create(payment_id=payment.id, amount_minor=2001, idempotency_key="refund:2")

    last = gateway.refund_create(
        payment_id=payment.id, amount_minor=2000, idempotency_key="refund:2"
    )
    assert (last.amount_minor, last.status) == (2000, "succeeded")
    assert LocalRefund.objects.count() == 2


def test_the_same_refund_key_refunds_once(gateway):
    payment = pay(gateway)

    first = gateway.refund_create(payment_id=payment.id, amount_minor=100, idempotency_key="r:1")
    second = gateway.refund_create(payment_id=payment.id, amount_minor=100, idempotency_key="r:1")

    assert first == second
    assert LocalRefund.objects.count() == 1


def test_a_declined_payment_cannot_be_refunded(gateway):
    with pytest.raises(PaymentDeclined) as declined:
        pay(gateway, card="4000000000000002")

    with pytest.raises(GatewayError):
        gateway.refund_create(
            payment_id=declined.value.payment_id, amount_minor=100, idempotency_key="r:1"
        )

    assert not LocalRefund.objects.exists()


# --- transfer reversals


def test_reversals_cannot_exceed_the_transfer_minus_earlier_reversals(gateway):
    payment = pay(gateway)
    moved = transfer(gateway, payment, onboarded_account(), amount_minor=3000)
    gateway.transfer_reversal_create(transfer_id=moved.id, amount_minor=1000, idempotency_key="v:1")

    with pytest.raises(GatewayError, match="exceeds what is left of the transfer"):
        gateway.transfer_reversal_create(
            transfer_id=moved.id, amount_minor=2001, idempotency_key="v:2"
        )

    gateway.transfer_reversal_create(transfer_id=moved.id, amount_minor=2000, idempotency_key="v:2")
    assert LocalTransferReversal.objects.count() == 2


def test_the_same_reversal_key_reverses_once(gateway):
    payment = pay(gateway)
    moved = transfer(gateway, payment, onboarded_account())

    first = gateway.transfer_reversal_create(
        transfer_id=moved.id, amount_minor=500, idempotency_key="v:1"
    )
    second = gateway.transfer_reversal_create(
        transfer_id=moved.id, amount_minor=500, idempotency_key="v:1"
    )

    assert first == second
    assert LocalTransferReversal.objects.count() == 1


def test_reversing_an_unknown_transfer_is_refused(gateway):
    with pytest.raises(GatewayError, match="No such transfer"):
        gateway.transfer_reversal_create(
            transfer_id="tr_local_nope", amount_minor=1, idempotency_key="v:1"
        )

    assert not LocalTransferReversal.objects.exists()
