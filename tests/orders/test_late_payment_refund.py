"""A payment that succeeds after its checkout's orders expired is refunded automatically, once
(orders.services.refunds.refund_late_payment; docs/architecture.md, "Shipping and tracking,
cancellations and refunds")."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_raw_balance
from marketplace.notifications.models import Notification
from marketplace.payments import local
from marketplace.payments.models import LocalPayment, LocalRefund
from marketplace.payments.webhooks import StripeEvent
from orders.models import (
    Checkout,
    CheckoutStatus,
    Order,
    OrderStatus,
    Refund,
    RefundLine,
    RefundReason,
    RefundStatus,
)
from orders.services.checkout import checkout_place, checkout_retry_payment
from orders.services.refunds import LatePaymentRefused, refund_late_payment
from orders.services.reservations import orders_expire_unpaid
from orders.tasks import refund_late_payments
from orders.webhooks import LATE_PAYMENT_NOTE, payment_intent_succeeded
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    DECLINED_CARD,
    PAID_CARD,
    BuyerAddressFactory,
    ShippingTemplateFactory,
    buyable_sku,
    cart_with,
)

pytestmark = pytest.mark.django_db


def two_seller_failed_checkout(*, stock=5) -> Checkout:
    """A checkout of two sellers (one charging $4.99 shipping) whose first card was declined:
    its orders are unpaid, their stock reserved."""
    buyer = UserFactory()
    first = buyable_sku(price_minor=1025, stock=stock)
    ShippingTemplateFactory(seller=first.product.seller, flat_fee_minor=499)
    second = buyable_sku(price_minor=2000, stock=stock)
    cart_with(buyer, (first, 1), (second, 2))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )
    assert checkout.status == CheckoutStatus.FAILED
    return checkout


def expire_while_paying(monkeypatch, *, only_order=None):
    """The gateway takes the money, and while it answers the expiry job runs (a retry started
    seconds before the expiry): every due order expires, or only `only_order`."""
    charge = local.LocalGateway.payment_create

    def slow_charge(self, **kwargs):
        result = charge(self, **kwargs)
        if only_order is not None:
            Order.objects.filter(pk=only_order.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
            orders_expire_unpaid(now=timezone.now())
        else:
            orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
        return result

    monkeypatch.setattr(local.LocalGateway, "payment_create", slow_charge)


def succeeded_payment(checkout: Checkout) -> LocalPayment:
    """A payment of the checkout's total that succeeded at the gateway (its event came late)."""
    result = local.LocalGateway().payment_create(
        amount_minor=checkout.total_minor,
        currency=checkout.currency,
        transfer_group=f"checkout-{checkout.id}",
        idempotency_key=f"test:late:{checkout.id}",
        payment_method=PAID_CARD,
        metadata={"checkout_id": str(checkout.id)},
    )
    return LocalPayment.objects.get(external_id=result.id)


def succeeded_event(checkout: Checkout, payment: LocalPayment, *, event_id="evt_late"):
    return StripeEvent(
        id=event_id,
        type="payment_intent.succeeded",
        created=None,
        account="",
        livemode=False,
        object={
            "id": payment.external_id,
            "amount": payment.amount_minor,
            "currency": payment.currency.lower(),
            "transfer_group": f"checkout-{checkout.id}",
            "metadata": {"checkout_id": str(checkout.id)},
        },
    )


def assert_ledger_balanced():
    for ledger_transaction in LedgerTransaction.objects.all():
        total = ledger_transaction.entries.aggregate(total=Sum("amount_minor"))["total"]
        assert total == 0, ledger_transaction
    assert ledger_raw_balance(accounts.platform_refunds_payable("USD")[0]) == 0


def assert_refunded_once(checkout: Checkout, payment: LocalPayment):
    """One late-payment refund per order of its total, succeeded at the gateway against the
    payment that took the money; the ledger posted in and out; nothing was sold."""
    orders = list(Order.objects.filter(checkout=checkout).order_by("id"))
    assert all(order.status == OrderStatus.CANCELLED for order in orders)
    refunds = {refund.order_id: refund for refund in Refund.objects.all()}
    assert set(refunds) == {order.pk for order in orders}
    for order in orders:
        refund = refunds[order.pk]
        assert refund.reason == RefundReason.LATE_PAYMENT
        assert refund.amount_minor == order.total_minor
        assert refund.idempotency_key == f"refund:late-payment:order:{order.pk}"
        assert refund.status == RefundStatus.SUCCEEDED
        assert refund.gateway_refund_id
    assert not RefundLine.objects.exists()
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    assert checkout.gateway_payment_id == payment.external_id
    assert "refunded to your card automatically" in checkout.failure_message
    local_refunds = LocalRefund.objects.filter(payment=payment)
    assert local_refunds.count() == len(orders)
    assert local_refunds.aggregate(total=Sum("amount_minor"))["total"] == checkout.total_minor
    kinds = list(LedgerTransaction.objects.values_list("kind", flat=True))
    assert sorted(kinds) == sorted(["late_payment_received", "late_payment_refunded"] * len(orders))
    assert_ledger_balanced()
    # The money came in and went out: the platform keeps nothing, the sellers earn nothing.
    assert ledger_raw_balance(accounts.gateway_cash("USD")[0]) == 0
    assert not LedgerEntry.objects.filter(account__code__startswith="seller:").exists()


def test_a_retry_that_lands_after_the_expiry_is_refunded_in_full_once(
    monkeypatch, mailoutbox, django_capture_on_commit_callbacks
):
    checkout = two_seller_failed_checkout()
    declined_id = checkout.gateway_payment_id
    expire_while_paying(monkeypatch)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as raised:
        checkout_retry_payment(checkout=checkout, payment_method=PAID_CARD)

    assert raised.value.code == "checkout_expired"
    assert "refunded to your card automatically" in raised.value.message
    assert "contact support" not in raised.value.message
    payment = LocalPayment.objects.get(status=LocalPayment.Status.SUCCEEDED)
    # The refund names the payment that took the money, not the declined attempt before it.
    assert payment.external_id != declined_id
    assert_refunded_once(checkout, payment)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [checkout.buyer.email]
    assert "is being refunded" in mailoutbox[0].subject
    assert "$55.24" in mailoutbox[0].body  # 10.25 + 4.99 shipping + 2 x 20.00

    # Called again (the webhook for the same payment, the sweep): nothing more.
    counts = (
        Refund.objects.count(),
        LedgerTransaction.objects.count(),
        LocalRefund.objects.count(),
        Notification.objects.count(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        again = refund_late_payment(checkout_id=checkout.id, payment_id=payment.external_id)
        assert payment_intent_succeeded(succeeded_event(checkout, payment)) == LATE_PAYMENT_NOTE
    assert {refund.pk for refund in again} == set(Refund.objects.values_list("pk", flat=True))
    assert counts == (
        Refund.objects.count(),
        LedgerTransaction.objects.count(),
        LocalRefund.objects.count(),
        Notification.objects.count(),
    )
    assert len(mailoutbox) == 1


def test_a_payment_landing_between_two_orders_expiring_releases_the_rest_and_refunds_all(
    monkeypatch, django_capture_on_commit_callbacks
):
    checkout = two_seller_failed_checkout(stock=5)
    first, second = Order.objects.filter(checkout=checkout).order_by("id")
    expire_while_paying(monkeypatch, only_order=first)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(DomainError, match="refunded to your card automatically"),
    ):
        checkout_retry_payment(checkout=checkout, payment_method=PAID_CARD)

    second.refresh_from_db()
    assert second.status == OrderStatus.CANCELLED
    for order in (first, second):
        for line in order.lines.select_related("sku"):
            assert line.sku.stock_on_hand == 5  # every unit back on sale
    assert_refunded_once(checkout, LocalPayment.objects.get(status="succeeded"))


def test_a_succeeded_event_for_an_expired_checkout_refunds_it_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    checkout = two_seller_failed_checkout()
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    payment = succeeded_payment(checkout)

    with django_capture_on_commit_callbacks(execute=True):
        note = payment_intent_succeeded(succeeded_event(checkout, payment))
    assert note == LATE_PAYMENT_NOTE
    assert_refunded_once(checkout, payment)

    # The same event delivered again, or another event for the same payment.
    with django_capture_on_commit_callbacks(execute=True):
        assert payment_intent_succeeded(succeeded_event(checkout, payment)) == LATE_PAYMENT_NOTE
        assert (
            payment_intent_succeeded(succeeded_event(checkout, payment, event_id="evt_2"))
            == LATE_PAYMENT_NOTE
        )
    assert Refund.objects.count() == 2
    assert LocalRefund.objects.count() == 2
    assert LedgerTransaction.objects.count() == 4
    assert len(mailoutbox) == 1


def test_a_second_different_payment_is_refused_loudly_and_writes_nothing(
    django_capture_on_commit_callbacks,
):
    checkout = two_seller_failed_checkout()
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    first = succeeded_payment(checkout)
    with django_capture_on_commit_callbacks(execute=True):
        refund_late_payment(checkout_id=checkout.id, payment_id=first.external_id)
    second = local.LocalGateway().payment_create(
        amount_minor=checkout.total_minor,
        currency="USD",
        transfer_group=f"checkout-{checkout.id}",
        idempotency_key="test:second",
        payment_method=PAID_CARD,
    )
    with pytest.raises(LatePaymentRefused) as raised:
        refund_late_payment(checkout_id=checkout.id, payment_id=second.id)
    assert raised.value.code == "second_late_payment"
    checkout.refresh_from_db()
    assert checkout.gateway_payment_id == first.external_id
    assert Refund.objects.count() == 2


def test_only_an_expired_checkout_has_a_late_payment_to_refund():
    checkout = two_seller_failed_checkout()
    payment = succeeded_payment(checkout)
    with pytest.raises(LatePaymentRefused) as raised:
        refund_late_payment(checkout_id=checkout.id, payment_id=payment.external_id)
    assert raised.value.code == "checkout_not_expired"
    assert not Refund.objects.exists() and not LedgerTransaction.objects.exists()


def test_the_sweep_refunds_a_late_payment_the_other_paths_missed(
    monkeypatch, django_capture_on_commit_callbacks
):
    # A payment the gateway confirmed while its checkout expired, with no webhook (lost) and no
    # refund (the process died before it): only the stored payment id is left.
    missed = two_seller_failed_checkout()
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    payment = succeeded_payment(missed)
    Checkout.objects.filter(pk=missed.pk).update(
        gateway_payment_id=payment.external_id, payment_attempts=2
    )
    # Abandoned after a declined card: its stored id is the declined payment's; never asked.
    abandoned = two_seller_failed_checkout()
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    abandoned.refresh_from_db()
    assert abandoned.status == CheckoutStatus.EXPIRED and abandoned.gateway_payment_id
    asked = []
    retrieve = local.LocalGateway.payment_retrieve

    def counting_retrieve(self, *, payment_id):
        asked.append(payment_id)
        return retrieve(self, payment_id=payment_id)

    monkeypatch.setattr(local.LocalGateway, "payment_retrieve", counting_retrieve)

    with django_capture_on_commit_callbacks(execute=True):
        assert refund_late_payments() == 1
    assert asked == [payment.external_id]
    assert_refunded_once(missed, payment)
    assert not Refund.objects.filter(order__checkout=abandoned).exists()
    # Done: the next run finds nothing to ask about.
    assert refund_late_payments() == 0
    assert asked == [payment.external_id]


def test_the_sweep_leaves_a_payment_that_did_not_succeed():
    checkout = two_seller_failed_checkout()
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    # Not a decline in our counts (a failed event, say), but the gateway says it failed.
    Checkout.objects.filter(pk=checkout.pk).update(payment_attempts=2)
    assert refund_late_payments() == 0
    assert not Refund.objects.exists() and not LedgerTransaction.objects.exists()


def test_the_pay_page_tells_the_shopper_the_payment_is_being_refunded(client, monkeypatch):
    checkout = two_seller_failed_checkout()
    expire_while_paying(monkeypatch)
    client.force_login(checkout.buyer)
    response = client.post(reverse("checkout:pay", args=[checkout.id]), {"card_number": PAID_CARD})
    assert response.status_code == 200
    page = response.content.decode()
    assert "refunded to your card automatically" in page
    assert "contact support" not in page
    assert Refund.objects.filter(order__checkout=checkout).count() == 2
