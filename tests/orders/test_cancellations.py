"""Cancellations (orders.services.cancellations): the buyer inside the free window, the seller
before collection, the marketplace; requests after the window with approve / reject / withdraw and
the deadline job; restock once, one refund, a balanced ledger reversal, and the pages."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU
from marketplace.errors import IllegalTransition
from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_balance
from marketplace.payments.models import LocalRefund
from marketplace.state import transition
from orders.models import (
    CANCELLATION_MACHINE,
    CancellationInitiator,
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
    Refund,
    RefundStatus,
)
from orders.services.cancellations import (
    CancellationNotFound,
    CancellationRefused,
    cancellation_approve,
    cancellation_reject,
    cancellation_request,
    cancellation_withdraw,
    cancellations_auto_approve,
    order_cancel,
)
from orders.services.checkout import checkout_place
from orders.services.refunds import refund_attempt
from orders.services.transitions import order_transition
from sellers.models import Violation
from tests.accounts.factories import UserFactory
from tests.orders.checks import assert_refunded_in_full
from tests.orders.factories import (
    PAID_CARD,
    BuyerAddressFactory,
    buyable_sku,
    cart_with,
    on_hold_order,
)
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


def stock_of(order: Order) -> int:
    return SKU.objects.get(id=order.lines.get().sku_id).stock_on_hand


def move(order: Order, *statuses) -> Order:
    for status in statuses:
        order = order_transition(order=order, to_status=status)
    return order


def after_window(order: Order):
    return order.cancel_window_ends_at + timedelta(minutes=1)


# --- The machine -------------------------------------------------------------------------------

STATUSES = list(CancellationStatus.values)
LEGAL = {
    ("pending", "approved"),
    ("pending", "rejected"),
    ("pending", "withdrawn"),
}


@pytest.mark.parametrize("from_status", STATUSES)
@pytest.mark.parametrize("to_status", STATUSES)
def test_the_cancellation_machine_allows_exactly_the_table(from_status, to_status):
    order = on_hold_order()
    row = OrderCancellation.objects.create(
        order=order,
        initiated_by=CancellationInitiator.BUYER,
        reason=CancellationReason.CHANGED_MIND,
        status=from_status,
    )
    if (from_status, to_status) in LEGAL:
        transition(CANCELLATION_MACHINE, instance=row, to_status=to_status)
        row.refresh_from_db()
        assert row.status == to_status
    else:
        assert not CANCELLATION_MACHINE.allows(from_status, to_status)
        with pytest.raises(IllegalTransition):
            transition(CANCELLATION_MACHINE, instance=row, to_status=to_status)
        row.refresh_from_db()
        assert row.status == from_status


# --- The buyer inside the window -----------------------------------------------------------------


def test_the_buyer_cancels_inside_the_window_restocked_refunded_and_told(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = on_hold_order(quantity=2, stock=10)
    assert stock_of(order) == 8
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cancellation = order_cancel(
            order_id=order.pk,
            initiated_by="buyer",
            reason=CancellationReason.ORDERED_BY_MISTAKE,
            actor=order.buyer,
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert order.cancelled_at is not None
    assert cancellation.status == CancellationStatus.APPROVED
    assert cancellation.initiated_by == CancellationInitiator.BUYER
    assert stock_of(order) == 10
    refund = Refund.objects.get(order=order)
    assert refund.cancellation == cancellation
    assert refund.idempotency_key == f"refund:cancellation:{cancellation.pk}"
    # The job ran on commit: refunded once at the gateway.
    assert refund.status == RefundStatus.SUCCEEDED and refund.refunded_at is not None
    assert LocalRefund.objects.get().amount_minor == order.total_minor
    assert_refunded_in_full(order)
    recipients = sorted(message.to[0] for message in mailoutbox)
    assert recipients == sorted([order.buyer.email, order.seller.contact_email])
    buyer_mail = next(m for m in mailoutbox if m.to == [order.buyer.email])
    assert f"Order {order.number} is cancelled" in buyer_mail.subject
    assert f"${order.total_minor / 100:,.2f}" in buyer_mail.body


def test_the_buyer_may_cancel_without_a_reason_inside_the_window():
    order = on_hold_order()
    cancellation = order_cancel(
        order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer
    )
    assert cancellation.reason == CancellationReason.OTHER


def test_after_the_window_the_buyer_cannot_cancel_at_once_and_nothing_is_written():
    order = on_hold_order()
    with pytest.raises(CancellationRefused) as refused:
        order_cancel(
            order_id=order.pk,
            initiated_by="buyer",
            reason=CancellationReason.CHANGED_MIND,
            actor=order.buyer,
            now=after_window(order),
        )
    assert refused.value.code == "cancel_window_closed"
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert not OrderCancellation.objects.exists() and not Refund.objects.exists()
    assert stock_of(order) == 8


def test_the_window_is_the_setting(settings):
    settings.ORDER_CANCEL_WINDOW_MINUTES = 5
    order = on_hold_order()
    assert order.cancel_window_ends_at - order.paid_at == timedelta(minutes=5)


def test_a_second_click_is_refused_clearly_and_restocks_and_refunds_nothing_more(
    django_capture_on_commit_callbacks,
):
    order = on_hold_order(quantity=2, stock=10)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer)
    with pytest.raises(CancellationRefused) as refused:
        order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer)
    assert refused.value.code == "already_cancelled"
    assert stock_of(order) == 10
    assert OrderCancellation.objects.count() == 1
    assert Refund.objects.count() == 1 and LocalRefund.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="order_refunded").count() == 1


def test_another_buyer_cannot_cancel_the_order():
    order = on_hold_order()
    with pytest.raises(CancellationNotFound):
        order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=UserFactory())
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD


def test_a_multi_seller_checkout_refunds_only_the_cancelled_order(
    django_capture_on_commit_callbacks,
):
    buyer = UserFactory()
    first, second = buyable_sku(price_minor=1025), buyable_sku(price_minor=3333)
    cart_with(buyer, (first, 1), (second, 2))
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD
    )
    cancelled = Order.objects.get(checkout=checkout, seller=second.product.seller)
    kept = Order.objects.get(checkout=checkout, seller=first.product.seller)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(order_id=cancelled.pk, initiated_by="buyer", reason="", actor=buyer)

    assert Refund.objects.get().order == cancelled
    assert LocalRefund.objects.get().amount_minor == cancelled.total_minor
    assert cancelled.total_minor < checkout.total_minor
    assert_refunded_in_full(cancelled)
    kept.refresh_from_db()
    assert kept.status == OrderStatus.ON_HOLD
    # The kept order's money is still where the payment put it.
    assert ledger_balance(accounts.seller_pending(kept.seller_id, "USD")).amount_minor == (
        kept.total_minor - kept.commission_minor
    )
    assert (LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] or 0) == 0


# --- The seller and the marketplace --------------------------------------------------------------


@pytest.mark.parametrize(
    "statuses",
    [
        [],
        [OrderStatus.AWAITING_SHIPMENT],
        [OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION],
    ],
)
def test_the_seller_cancels_before_collection(statuses, django_capture_on_commit_callbacks):
    order = move(on_hold_order(), *statuses)
    with django_capture_on_commit_callbacks(execute=True):
        cancellation = order_cancel(
            order_id=order.pk,
            initiated_by="seller",
            reason=CancellationReason.CANNOT_SHIP_TO_ADDRESS,
            actor=order.seller.owner,
            seller=order.seller,
        )
    assert cancellation.initiated_by == CancellationInitiator.SELLER
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert stock_of(order) == 10
    assert_refunded_in_full(order)
    assert not Violation.objects.exists()


def test_out_of_stock_counts_against_the_shop():
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    order_cancel(
        order_id=order.pk,
        initiated_by="seller",
        reason=CancellationReason.OUT_OF_STOCK,
        actor=order.seller.owner,
    )
    violation = Violation.objects.get()
    assert violation.seller_id == order.seller_id
    assert order.number in violation.reason


def test_a_shipped_order_cannot_be_cancelled_and_nothing_is_written():
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT)
    with pytest.raises(CancellationRefused) as refused:
        order_cancel(
            order_id=order.pk,
            initiated_by="seller",
            reason=CancellationReason.OUT_OF_STOCK,
            actor=order.seller.owner,
        )
    assert refused.value.code == "already_shipped"
    assert not OrderCancellation.objects.exists() and not Refund.objects.exists()
    assert not Violation.objects.exists()
    assert stock_of(order) == 8


def test_the_seller_gives_one_of_the_policys_reasons_and_only_for_its_own_orders():
    order = on_hold_order()
    with pytest.raises(CancellationRefused) as refused:
        order_cancel(
            order_id=order.pk,
            initiated_by="seller",
            reason=CancellationReason.CHANGED_MIND,
            actor=order.seller.owner,
        )
    assert refused.value.code == "invalid_reason"
    with pytest.raises(CancellationNotFound):
        order_cancel(
            order_id=order.pk,
            initiated_by="seller",
            reason=CancellationReason.OUT_OF_STOCK,
            seller=ApprovedSellerFactory(),
        )
    assert not OrderCancellation.objects.exists()


def test_the_marketplace_cancels_a_missed_ship_by(django_capture_on_commit_callbacks):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    with django_capture_on_commit_callbacks(execute=True):
        cancellation = order_cancel(
            order_id=order.pk, initiated_by="system", reason=CancellationReason.SHIP_BY_MISSED
        )
    assert cancellation.initiated_by == CancellationInitiator.SYSTEM
    assert_refunded_in_full(order)


# --- Requests after the window -------------------------------------------------------------------


def request(order, *, now=None, reason=CancellationReason.TOO_SLOW, note="Too late for me"):
    return cancellation_request(
        order_id=order.pk,
        buyer=order.buyer,
        reason=reason,
        note=note,
        now=now or after_window(order),
    )


def test_a_request_waits_for_the_seller_who_is_told(mailoutbox, django_capture_on_commit_callbacks):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    mailoutbox.clear()
    now = after_window(order)
    with django_capture_on_commit_callbacks(execute=True):
        cancellation = request(order, now=now)
    assert cancellation.status == CancellationStatus.PENDING
    assert cancellation.respond_by == now + timedelta(hours=24)
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert [m.to for m in mailoutbox] == [[order.seller.contact_email]]
    assert "Too late for me" in mailoutbox[0].body
    # Sent twice (a double-click): the same request.
    assert request(order, now=now) == cancellation
    assert OrderCancellation.objects.count() == 1


def test_inside_the_window_the_buyer_is_told_to_cancel_directly():
    order = on_hold_order()
    with pytest.raises(CancellationRefused) as refused:
        request(order, now=timezone.now())
    assert refused.value.code == "cancel_directly"


def test_approving_cancels_and_refunds_once(django_capture_on_commit_callbacks):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    with django_capture_on_commit_callbacks(execute=True):
        approved = cancellation_approve(
            cancellation_id=pending.pk, seller=order.seller, actor=order.seller.owner
        )
    assert approved.status == CancellationStatus.APPROVED
    assert approved.decided_by == order.seller.owner
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert_refunded_in_full(order)
    # A second click answers with the approved request and changes nothing.
    again = cancellation_approve(
        cancellation_id=pending.pk, seller=order.seller, actor=order.seller.owner
    )
    assert again.status == CancellationStatus.APPROVED
    assert Refund.objects.count() == 1 and LocalRefund.objects.count() == 1
    assert stock_of(order) == 10


def test_rejecting_needs_a_reason_and_tells_the_buyer(
    mailoutbox, django_capture_on_commit_callbacks
):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    with pytest.raises(CancellationRefused) as refused:
        cancellation_reject(
            cancellation_id=pending.pk, seller=order.seller, actor=None, reason_text="   "
        )
    assert refused.value.code == "reason_required"
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.PENDING
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cancellation_reject(
            cancellation_id=pending.pk,
            seller=order.seller,
            actor=order.seller.owner,
            reason_text="Already packed and labelled.",
        )
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.REJECTED
    assert pending.reject_reason == "Already packed and labelled."
    assert [m.to for m in mailoutbox] == [[order.buyer.email]]
    assert "Already packed and labelled." in mailoutbox[0].body
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    # Decided: approving now is refused, and the buyer cannot ask again.
    with pytest.raises(CancellationRefused):
        cancellation_approve(cancellation_id=pending.pk, seller=order.seller, actor=None)
    with pytest.raises(CancellationRefused) as again:
        request(order)
    assert again.value.code == "rejected"


def test_the_buyer_withdraws_a_request_and_may_ask_again():
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    withdrawn = cancellation_withdraw(cancellation_id=pending.pk, buyer=order.buyer)
    assert withdrawn.status == CancellationStatus.WITHDRAWN
    assert cancellation_withdraw(cancellation_id=pending.pk, buyer=order.buyer).status == (
        CancellationStatus.WITHDRAWN
    )
    with pytest.raises(CancellationRefused):
        cancellation_approve(cancellation_id=pending.pk, seller=order.seller, actor=None)
    assert request(order).status == CancellationStatus.PENDING


def test_a_request_belongs_to_its_buyer_and_seller():
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    with pytest.raises(CancellationNotFound):
        cancellation_withdraw(cancellation_id=pending.pk, buyer=UserFactory())
    with pytest.raises(CancellationNotFound):
        cancellation_approve(cancellation_id=pending.pk, seller=ApprovedSellerFactory(), actor=None)
    with pytest.raises(CancellationNotFound):
        cancellation_request(
            order_id=order.pk, buyer=UserFactory(), reason=CancellationReason.TOO_SLOW
        )
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.PENDING


def test_the_seller_cancelling_approves_the_pending_request(django_capture_on_commit_callbacks):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    with django_capture_on_commit_callbacks(execute=True):
        result = order_cancel(
            order_id=order.pk,
            initiated_by="seller",
            reason=CancellationReason.BUYER_ASKED,
            actor=order.seller.owner,
        )
    assert result.pk == pending.pk
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.APPROVED
    assert_refunded_in_full(order)


def test_unanswered_requests_are_approved_by_the_job_once(django_capture_on_commit_callbacks):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    assert cancellations_auto_approve(now=pending.respond_by - timedelta(minutes=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert cancellations_auto_approve(now=pending.respond_by) == [pending.pk]
    assert cancellations_auto_approve(now=pending.respond_by + timedelta(hours=1)) == []
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.APPROVED and pending.decided_by is None
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert_refunded_in_full(order)
    assert stock_of(order) == 10


def test_a_request_whose_order_left_meanwhile_is_closed_by_the_job():
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    move(order, OrderStatus.IN_TRANSIT)
    assert cancellations_auto_approve(now=pending.respond_by) == []
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.REJECTED
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_TRANSIT
    assert not Refund.objects.exists()


# --- Pages ----------------------------------------------------------------------------------------


def test_the_buyer_page_offers_cancel_with_the_time_left_then_shows_the_refund(client):
    order = on_hold_order()
    client.force_login(order.buyer)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Cancel order" in page and "min more" in page
    assert reverse("orders:cancel", args=[order.pk]) in page

    response = client.post(
        reverse("orders:cancel", args=[order.pk]), {"reason": "changed_mind"}, follow=True
    )

    page = response.content.decode()
    assert f"Order {order.number} is cancelled" in page
    assert "Cancel order" not in page
    # The refund job runs after commit (not inside this test's transaction): pending until then.
    assert "Refund pending" in page
    refund_attempt(refund_id=Refund.objects.get(order=order).pk)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert f"Refunded ${order.total_minor / 100:,.2f} to your card" in page


def test_the_buyer_page_offers_a_request_after_the_window_and_shows_its_state(client):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    Order.objects.filter(pk=order.pk).update(
        cancel_window_ends_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(order.buyer)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Request cancellation" in page and "Cancel this order" not in page

    response = client.post(
        reverse("orders:cancellation_request", args=[order.pk]),
        {"reason": "too_slow", "note": "Sorry"},
        follow=True,
    )
    page = response.content.decode()
    assert "Your request was sent" in page
    assert "Cancellation requested" in page and "Withdraw my request" in page
    pending = OrderCancellation.objects.get()

    page = client.post(
        reverse("orders:cancellation_withdraw", args=[order.pk, pending.pk]), follow=True
    ).content.decode()
    assert "withdrawn" in page
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.WITHDRAWN


def test_bad_input_from_the_buyer_is_a_message_and_changes_nothing(client):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    Order.objects.filter(pk=order.pk).update(
        cancel_window_ends_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(order.buyer)
    response = client.post(
        reverse("orders:cancellation_request", args=[order.pk]),
        {"reason": "nonsense\x00"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose one of the reasons listed." in response.content.decode()
    response = client.post(reverse("orders:cancel", args=[order.pk]), follow=True)
    assert "free cancellation window has ended" in response.content.decode()
    assert not OrderCancellation.objects.exists()


def test_another_buyers_order_answers_404(client):
    order = on_hold_order()
    client.force_login(UserFactory())
    assert client.post(reverse("orders:cancel", args=[order.pk])).status_code == 404
    assert client.post(reverse("orders:cancellation_request", args=[order.pk])).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD


@pytest.fixture
def shop():
    return ApprovedSellerFactory()


@pytest.fixture
def shop_client(client, shop):
    client.force_login(shop.owner)
    return client


def test_the_seller_cancels_from_the_order_page(shop_client, shop):
    order = move(on_hold_order(seller=shop), OrderStatus.AWAITING_SHIPMENT)
    page = shop_client.get(reverse("seller_orders:detail", args=[order.pk])).content.decode()
    assert reverse("seller_orders:cancel", args=[order.pk]) in page

    response = shop_client.post(
        reverse("seller_orders:cancel", args=[order.pk]), {"reason": ""}, follow=True
    )
    assert "Choose one of the reasons listed." in response.content.decode()
    assert not OrderCancellation.objects.exists()

    response = shop_client.post(
        reverse("seller_orders:cancel", args=[order.pk]),
        {"reason": "cannot_ship_to_address"},
        follow=True,
    )
    assert f"Order {order.number} is cancelled" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_the_seller_answers_a_request_from_the_order_page(shop_client, shop):
    order = move(on_hold_order(seller=shop), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    page = shop_client.get(reverse("seller_orders:detail", args=[order.pk])).content.decode()
    assert "The buyer asks to cancel this order" in page
    assert reverse("seller_orders:cancellation_reject", args=[order.pk, pending.pk]) in page

    response = shop_client.post(
        reverse("seller_orders:cancellation_reject", args=[order.pk, pending.pk]),
        {"reject_reason": ""},
        follow=True,
    )
    assert "Tell the buyer why" in response.content.decode()
    response = shop_client.post(
        reverse("seller_orders:cancellation_approve", args=[order.pk, pending.pk]), follow=True
    )
    assert "Request approved" in response.content.decode()
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_another_sellers_order_or_request_answers_404(shop_client):
    order = move(on_hold_order(), OrderStatus.AWAITING_SHIPMENT)
    pending = request(order)
    assert (
        shop_client.post(
            reverse("seller_orders:cancel", args=[order.pk]), {"reason": "out_of_stock"}
        ).status_code
        == 404
    )
    for name in ("cancellation_approve", "cancellation_reject"):
        url = reverse(f"seller_orders:{name}", args=[order.pk, pending.pk])
        assert shop_client.post(url, {"reject_reason": "No"}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == CancellationStatus.PENDING


def test_the_confirmations_promise_holds_cancel_free_from_the_order_page_within_the_hour(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    with django_capture_on_commit_callbacks(execute=True):
        checkout = checkout_place(
            buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD
        )
    confirmation = next(m for m in mailoutbox if m.to == [buyer.email])
    assert "cancel free of charge within the next hour from your order page" in confirmation.body
    order = Order.objects.get(checkout=checkout)
    assert order.cancel_window_ends_at - order.paid_at == timedelta(hours=1)
    client.force_login(buyer)
    done = client.get(reverse("checkout:done", args=[checkout.pk])).content.decode()
    assert "You can cancel free of charge within the first hour" in done
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Cancel order" in page and "You can cancel free of charge" in page
    # Fifty-nine minutes later it still holds; at the hour it has ended.
    order_cancel(
        order_id=order.pk,
        initiated_by="buyer",
        reason="",
        actor=buyer,
        now=order.paid_at + timedelta(minutes=59),
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
