import pytest
from django.db.models import Sum

from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.payments.webhooks import StripeEvent, webhook_handlers_for
from orders.models import CheckoutStatus, Order, OrderStatus
from orders.webhooks import payment_intent_payment_failed, payment_intent_succeeded
from tests.orders.factories import failed_checkout

pytestmark = pytest.mark.django_db


def event(kind, checkout, **fields):
    payment = {
        "id": "pi_123",
        "amount": checkout.total_minor,
        "currency": checkout.currency.lower(),
        "transfer_group": f"checkout-{checkout.id}",
        "metadata": {"checkout_id": str(checkout.id)},
        **fields,
    }
    return StripeEvent(
        id="evt_1", type=kind, created=None, account="", livemode=False, object=payment
    )


def test_the_handlers_are_registered():
    assert payment_intent_succeeded in webhook_handlers_for("payment_intent.succeeded")
    assert payment_intent_payment_failed in webhook_handlers_for("payment_intent.payment_failed")


def test_a_succeeded_event_pays_the_checkout_once():
    checkout = failed_checkout()
    assert payment_intent_succeeded(event("payment_intent.succeeded", checkout)) is None
    assert payment_intent_succeeded(event("payment_intent.succeeded", checkout)) == "already paid"
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID
    assert Order.objects.get().status == OrderStatus.ON_HOLD
    assert LedgerTransaction.objects.count() == 1
    assert LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] == 0


def test_a_succeeded_event_for_another_amount_fails_loudly_and_writes_nothing():
    checkout = failed_checkout()
    with pytest.raises(Exception, match="does not match"):
        payment_intent_succeeded(event("payment_intent.succeeded", checkout, amount=1))
    assert not LedgerTransaction.objects.exists()


def test_a_late_failed_event_does_not_undo_a_payment():
    checkout = failed_checkout()
    payment_intent_succeeded(event("payment_intent.succeeded", checkout))
    assert payment_intent_payment_failed(event("payment_intent.payment_failed", checkout)) == (
        "stale"
    )
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID
