from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_raw_balance
from marketplace.payments.models import LocalPayment
from orders.models import (
    CartLine,
    CategoryCommission,
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusEvent,
    Refund,
    RefundReason,
)
from orders.services.checkout import (
    checkout_place,
    checkout_retry_payment,
)
from orders.services.commission import commission_for_lines
from orders.services.reservations import orders_expire_unpaid
from orders.tasks import expire_unpaid_orders
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    BuyerAddressFactory,
    ShippingTemplateFactory,
    buyable_sku,
    cart_with,
)
from tests.policies.factories import CategoryFactory

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000000000000002"


def three_seller_cart(buyer):
    first = buyable_sku(price_minor=1025, stock=5)
    ShippingTemplateFactory(seller=first.product.seller, flat_fee_minor=499)
    second = buyable_sku(price_minor=2000, stock=5)
    third = buyable_sku(price_minor=3333, stock=5)
    cart_with(buyer, (first, 1), (second, 2), (third, 1))
    return first, second, third


def assert_ledger_balanced():
    assert (LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] or 0) == 0


def test_it_creates_one_paid_order_per_seller_and_posts_the_ledger(
    mailoutbox, django_capture_on_commit_callbacks
):
    buyer = UserFactory()
    address = BuyerAddressFactory(user=buyer)
    first, second, third = three_seller_cart(buyer)

    with django_capture_on_commit_callbacks(execute=True):
        checkout = checkout_place(buyer=buyer, address=address, payment_method=GOOD_CARD)

    assert checkout.status == CheckoutStatus.PAID
    orders = {o.seller_id: o for o in Order.objects.filter(checkout=checkout)}
    assert len(orders) == 3
    assert {o.status for o in orders.values()} == {OrderStatus.ON_HOLD}
    first_order = orders[first.product.seller_id]
    assert (first_order.subtotal_minor, first_order.shipping_minor) == (1025, 499)
    assert first_order.commission_minor == 21  # 2% of 10.25 = 20.5, half up
    assert orders[second.product.seller_id].commission_minor == 80
    assert orders[third.product.seller_id].commission_minor == 67  # 66.66 -> 67
    assert checkout.total_minor == 1025 + 499 + 4000 + 3333
    assert all(o.cancel_window_ends_at == o.paid_at + timedelta(hours=1) for o in orders.values())

    # Stock taken, cart emptied, one payment.
    first.refresh_from_db()
    assert first.stock_on_hand == 4
    assert not CartLine.objects.exists()
    payment = LocalPayment.objects.get()
    assert (payment.amount_minor, payment.idempotency_key) == (
        checkout.total_minor,
        f"payment:checkout:{checkout.id}",
    )
    assert payment.transfer_group == f"checkout-{checkout.id}"

    # Ledger: one balanced posting per order; cash equals the payment.
    assert LedgerTransaction.objects.filter(kind="order_paid").count() == 3
    assert_ledger_balanced()
    assert ledger_raw_balance(accounts.gateway_cash("USD")[0]) == checkout.total_minor
    assert -ledger_raw_balance(accounts.platform_commission_pending("USD")[0]) == 21 + 80 + 67
    assert -ledger_raw_balance(accounts.seller_pending(first.product.seller_id, "USD")[0]) == (
        1025 + 499 - 21
    )

    # Audit trail and emails: the buyer once, each seller once.
    assert OrderStatusEvent.objects.filter(to_status=OrderStatus.ON_HOLD).count() == 3
    recipients = sorted(m.to[0] for m in mailoutbox)
    assert buyer.email in recipients and len(recipients) == 4


def test_lines_copy_what_was_sold():
    buyer = UserFactory()
    sku = buyable_sku(price_minor=1500, title="Blue mug")
    cart_with(buyer, (sku, 2))
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD)
    sku.product.title = "Renamed"
    sku.product.save()
    sku.price_minor = 9999
    sku.save()
    line = OrderLine.objects.get()
    assert (line.product_title, line.unit_price_minor, line.line_total_minor) == (
        "Blue mug",
        1500,
        3000,
    )


def test_a_category_override_sets_the_commission_and_the_most_specific_wins():
    parent = CategoryFactory()
    child = CategoryFactory(parent=parent)
    now = timezone.now()
    CategoryCommission.objects.create(category=parent, rate_bps=1000, effective_from=now)
    CategoryCommission.objects.create(
        category=child, rate_bps=300, effective_from=now - timedelta(days=1)
    )
    CategoryCommission.objects.create(category=child, rate_bps=500, effective_from=now)
    CategoryCommission.objects.create(  # not in force yet
        category=child, rate_bps=9000, effective_from=now + timedelta(days=1)
    )
    buyer = UserFactory()
    in_child = buyable_sku(price_minor=1010, category=child)
    in_parent = buyable_sku(price_minor=1010, category=parent)
    cart_with(buyer, (in_child, 1), (in_parent, 1))

    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD)

    by_seller = {o.seller_id: o for o in Order.objects.all()}
    child_order = by_seller[in_child.product.seller_id]
    assert (child_order.commission_bps, child_order.commission_minor) == (500, 51)  # 50.5 -> 51
    assert by_seller[in_parent.product.seller_id].commission_minor == 101


def test_commission_is_one_percentage_per_rate_within_a_seller_order():
    # Two lines at 2% of 10.25 each: 41 cents on the 20.50 order, not 21 + 21 per line.
    assert commission_for_lines([(1025, 200), (1025, 200)]) == (41, 200)
    assert commission_for_lines([(1025, 200), (1000, 500)]) == (21 + 50, 350)


def test_a_declined_card_leaves_the_orders_unpaid_and_nothing_charged_or_posted(mailoutbox):
    buyer = UserFactory()
    sku = buyable_sku(stock=5)
    cart_with(buyer, (sku, 2))

    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )

    assert checkout.status == CheckoutStatus.FAILED
    assert "declined" in checkout.failure_message.lower()
    assert Order.objects.get().status == OrderStatus.UNPAID
    assert not LocalPayment.objects.filter(status=LocalPayment.Status.SUCCEEDED).exists()
    assert not LedgerTransaction.objects.exists()
    assert CartLine.objects.count() == 1  # still there to retry
    sku.refresh_from_db()
    assert sku.stock_on_hand == 3  # reserved until expiry
    assert mailoutbox == []


def test_a_failed_payment_can_be_retried_with_a_new_key():
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )

    checkout = checkout_retry_payment(checkout=checkout, payment_method=GOOD_CARD)

    assert checkout.status == CheckoutStatus.PAID
    assert Order.objects.get().status == OrderStatus.ON_HOLD
    keys = set(LocalPayment.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"payment:checkout:{checkout.id}", f"payment:checkout:{checkout.id}:attempt-2"}
    assert_ledger_balanced()
    postings = LedgerTransaction.objects.count()
    with pytest.raises(DomainError):
        checkout_retry_payment(checkout=checkout, payment_method=GOOD_CARD)
    assert LocalPayment.objects.count() == 2
    assert LedgerTransaction.objects.count() == postings
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.PAID


def test_an_unreachable_gateway_fails_the_checkout_with_a_try_again_message(monkeypatch):
    from marketplace.payments import local
    from marketplace.payments.gateway import GatewayUnavailable

    def unavailable(self, **kwargs):
        raise GatewayUnavailable("down")

    monkeypatch.setattr(local.LocalGateway, "payment_create", unavailable)
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD
    )
    assert checkout.status == CheckoutStatus.FAILED
    assert "try again" in checkout.failure_message
    assert not LedgerTransaction.objects.exists()


def test_it_refuses_a_sold_out_item_and_writes_nothing():
    buyer = UserFactory()
    plenty = buyable_sku(stock=5)
    scarce = buyable_sku(stock=1, title="Last lamp")
    cart_with(buyer, (plenty, 1), (scarce, 2))

    with pytest.raises(DomainError, match="Sold out: Last lamp"):
        checkout_place(
            buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD
        )

    assert not Checkout.objects.exists() and not Order.objects.exists()
    assert not LocalPayment.objects.exists()
    plenty.refresh_from_db()
    assert plenty.stock_on_hand == 5


def test_it_refuses_an_empty_cart():
    buyer = UserFactory()
    with pytest.raises(DomainError, match="empty"):
        checkout_place(
            buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD
        )

    assert not Checkout.objects.exists() and not Order.objects.exists()
    assert not LocalPayment.objects.exists()


def test_expiry_cancels_unpaid_orders_and_releases_stock_exactly_once():
    buyer = UserFactory()
    sku = buyable_sku(stock=5)
    cart_with(buyer, (sku, 5))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )
    sku.refresh_from_db()
    assert sku.stock_on_hand == 0
    sku.product.refresh_from_db()
    assert not sku.product.in_stock

    assert orders_expire_unpaid(now=timezone.now()) == 0  # not yet
    later = timezone.now() + timedelta(minutes=31)
    assert orders_expire_unpaid(now=later) == 1
    assert orders_expire_unpaid(now=later) == 0

    sku.refresh_from_db()
    assert sku.stock_on_hand == 5
    sku.product.refresh_from_db()
    assert sku.product.in_stock
    order = Order.objects.get()
    assert order.status == OrderStatus.CANCELLED
    assert OrderStatusEvent.objects.filter(order=order, to_status="cancelled").count() == 1
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    with pytest.raises(DomainError):
        checkout_retry_payment(checkout=checkout, payment_method=GOOD_CARD)
    assert LocalPayment.objects.count() == 1  # the declined one
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    sku.refresh_from_db()
    assert sku.stock_on_hand == 5


def test_expiry_leaves_paid_orders_alone(settings):
    buyer = UserFactory()
    sku = buyable_sku(stock=5)
    cart_with(buyer, (sku, 1))
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD)
    assert expire_unpaid_orders() == 0
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=1)) == 0
    assert Order.objects.get().status == OrderStatus.ON_HOLD


def test_a_checkout_of_three_sellers_runs_in_at_most_45_queries(
    django_assert_max_num_queries,
):
    """With new sellers (their ledger accounts created on the way), savepoints counted; 2 of them
    claim the cart (its row lock, and the buyer's checkout waiting for payment or placed by the
    same page), 3 store the four confirmation emails (marketplace.notifications.notify_many,
    whatever the number of sellers)."""
    buyer = UserFactory()
    address = BuyerAddressFactory(user=buyer)
    three_seller_cart(buyer)
    with django_assert_max_num_queries(45):
        checkout = checkout_place(buyer=buyer, address=address, payment_method=GOOD_CARD)
    assert checkout.status == CheckoutStatus.PAID


def test_a_payment_recorded_after_the_orders_expired_is_refused_and_refunded():
    """The orders stay cancelled and nothing is journaled as paid; the payment goes back
    (tests/orders/test_late_payment_refund.py follows the refund to the gateway)."""
    from marketplace.payments.gateway import PaymentResult
    from orders.services.checkout import checkout_mark_paid

    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )
    orders_expire_unpaid(now=timezone.now() + timedelta(hours=1))
    checkout.refresh_from_db()
    payment = PaymentResult(
        id="pi_late", status="succeeded", amount_minor=checkout.total_minor, currency="USD"
    )
    with pytest.raises(DomainError, match="refunded to your card automatically"):
        checkout_mark_paid(checkout=checkout, payment=payment)
    checkout.refresh_from_db()
    assert checkout.status == CheckoutStatus.EXPIRED
    assert Order.objects.get().status == OrderStatus.CANCELLED
    assert not LedgerTransaction.objects.filter(kind="order_paid").exists()
    refund = Refund.objects.get()
    assert (refund.reason, refund.amount_minor) == (RefundReason.LATE_PAYMENT, checkout.total_minor)


def test_it_refuses_an_item_no_longer_for_sale_and_writes_nothing():
    from sellers.models import SellerStatus

    buyer = UserFactory()
    sku = buyable_sku(title="Paused poster")
    cart_with(buyer, (sku, 1))
    sku.product.seller.status = SellerStatus.SUSPENDED
    sku.product.seller.save()
    with pytest.raises(DomainError, match="No longer for sale: Paused poster") as raised:
        checkout_place(
            buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD
        )
    assert raised.value.code == "not_buyable"
    assert not Checkout.objects.exists()
    sku.refresh_from_db()
    assert sku.stock_on_hand == 10
