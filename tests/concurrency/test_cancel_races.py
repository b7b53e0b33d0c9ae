"""Cancelling at once from several places, with real threads on PostgreSQL: a double-clicked
cancel, the buyer and the seller together, two workers approving the same overdue request, two
refund attempts: one cancellation, one refund, one restock, one ledger reversal."""

from datetime import timedelta

import pytest
from django.urls import reverse

from catalog.models import SKU
from marketplace.ledger.models import LedgerTransaction
from marketplace.payments.models import LocalRefund
from orders.models import (
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
    Refund,
    RefundStatus,
)
from orders.services.cancellations import (
    CancellationRefused,
    cancellation_request,
    cancellations_auto_approve,
    order_cancel,
)
from orders.services.checkout import checkout_place
from orders.services.refunds import refund_attempt
from orders.services.transitions import order_transition
from tests.accounts.factories import UserFactory
from tests.concurrency.threads import run_at_once, signed_in_clients
from tests.markers import needs_postgres
from tests.orders.factories import BuyerAddressFactory, buyable_sku, cart_with

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def place(quantity=2, stock=10) -> tuple[Order, SKU]:
    buyer = UserFactory()
    sku = buyable_sku(stock=stock)
    cart_with(buyer, (sku, quantity))
    checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method="4242424242424242"
    )
    return Order.objects.get(buyer=buyer), sku


def assert_cancelled_once(order: Order, sku: SKU, stock: int = 10):
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert OrderCancellation.objects.filter(status=CancellationStatus.APPROVED).count() == 1
    assert Refund.objects.count() == 1
    assert LedgerTransaction.objects.filter(kind="order_refunded").count() == 1
    assert SKU.objects.get(id=sku.id).stock_on_hand == stock
    assert LocalRefund.objects.count() == 1  # the refund job ran on commit (eager Celery)


def test_a_double_clicked_cancel_cancels_refunds_and_restocks_once():
    order, sku = place()
    clients = signed_in_clients(order.buyer, 4)
    url = reverse("orders:cancel", args=[order.pk])

    responses = run_at_once(4, lambda i: clients[i].post(url, {"reason": "changed_mind"}))

    assert [response.status_code for response in responses] == [302] * 4
    assert_cancelled_once(order, sku)


def test_the_buyer_and_the_seller_cancelling_together_make_one_cancellation():
    order, sku = place()

    def cancel(index):
        try:
            if index == 0:
                return order_cancel(
                    order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer
                )
            return order_cancel(
                order_id=order.pk,
                initiated_by="seller",
                reason=CancellationReason.CANNOT_SHIP_TO_ADDRESS,
                actor=order.seller.owner,
            )
        except CancellationRefused as refused:
            return refused.code

    results = run_at_once(2, cancel)

    assert sorted(isinstance(result, str) for result in results) == [False, True]
    assert "already_cancelled" in results
    assert_cancelled_once(order, sku)


def test_two_workers_approving_an_overdue_request_approve_it_once():
    order, sku = place()
    order = order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    pending = cancellation_request(
        order_id=order.pk,
        buyer=order.buyer,
        reason=CancellationReason.TOO_SLOW,
        now=order.cancel_window_ends_at + timedelta(minutes=1),
    )

    results = run_at_once(2, lambda i: cancellations_auto_approve(now=pending.respond_by))

    assert sorted(len(result) for result in results) == [0, 1]
    assert_cancelled_once(order, sku)


def test_two_refund_attempts_at_once_refund_once():
    order, _ = place()
    # Cancelled in this thread's committed transaction; the job ran on commit (eager Celery).
    order_cancel(order_id=order.pk, initiated_by="buyer", reason="", actor=order.buyer)
    refund = Refund.objects.get()
    LocalRefund.objects.all().delete()
    Refund.objects.filter(pk=refund.pk).delete()
    again = Refund.objects.create(
        order=order,
        amount_minor=refund.amount_minor,
        currency=refund.currency,
        idempotency_key=refund.idempotency_key + ":race",
    )

    run_at_once(3, lambda i: refund_attempt(refund_id=again.pk))

    # A loser may see the local gateway refuse "more than is left" (it checks the amount under the
    # payment's lock before the key) and record a failure for a moment; the winner's success moves
    # the refund on from either state, and money went back once.
    again.refresh_from_db()
    assert again.status == RefundStatus.SUCCEEDED and again.last_error == ""
    assert LocalRefund.objects.count() == 1


def test_a_double_clicked_request_files_one_request():
    order, _ = place()
    order = order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    now = order.cancel_window_ends_at + timedelta(minutes=1)

    results = run_at_once(
        3,
        lambda i: (
            cancellation_request(
                order_id=order.pk, buyer=order.buyer, reason=CancellationReason.TOO_SLOW, now=now
            ).pk
        ),
    )

    assert len(set(results)) == 1
    assert OrderCancellation.objects.get().status == CancellationStatus.PENDING


def test_a_buyer_cancel_racing_the_sellers_ship_has_exactly_one_winner():
    """At the end of the free window the buyer cancels while the release job hands the order to
    the seller, who ships at once: either the order is cancelled (and the ship refused) or it is
    shipped (and the cancel refused), never both, never neither."""
    from orders.models import Shipment
    from orders.services.fulfilment import PackageInput, order_ship, orders_release_for_shipment

    order, sku = place()
    last_second = order.cancel_window_ends_at - timedelta(milliseconds=1)
    just_after = order.cancel_window_ends_at + timedelta(seconds=1)
    seller_owner = order.seller.owner

    def buyer_cancels(_):
        try:
            order_cancel(
                order_id=order.id,
                initiated_by="buyer",
                reason=CancellationReason.CHANGED_MIND,
                actor=order.buyer,
                now=last_second,
            )
            return "cancelled"
        except CancellationRefused:
            return "cancel refused"

    def seller_ships(_):
        orders_release_for_shipment(now=just_after)
        try:
            order_ship(
                order_id=order.id,
                seller=order.seller,
                actor=seller_owner,
                packages=[PackageInput(carrier="demo", tracking_number="DP0000000042")],
                now=just_after,
            )
            return "shipped"
        except Exception as error:  # ShipError: the order was cancelled first
            return f"ship refused: {type(error).__name__}"

    outcomes = run_at_once(2, lambda i: (buyer_cancels, seller_ships)[i](i))

    order.refresh_from_db()
    if outcomes[0] == "cancelled":
        assert outcomes[1].startswith("ship refused")
        assert order.status == OrderStatus.CANCELLED
        assert not Shipment.objects.exists()
        assert_cancelled_once(order, sku)
    else:
        assert outcomes == ["cancel refused", "shipped"]
        assert order.status == OrderStatus.AWAITING_COLLECTION
        assert Shipment.objects.count() == 1
        assert not Refund.objects.exists() and not OrderCancellation.objects.exists()
        assert SKU.objects.get(id=sku.id).stock_on_hand == 8


def test_a_seller_approving_a_request_while_cancelling_the_order_never_deadlocks(monkeypatch):
    """The approval holds the request's row while it works; a cancellation of the same order at
    that moment must wait for it, not take the order's row and then wait for the request's (the
    two would deadlock). Every path locks the order first."""
    import threading
    import time

    from orders.services import cancellations

    order, sku = place()
    order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    Order.objects.filter(pk=order.pk).update(
        cancel_window_ends_at=order.cancel_window_ends_at - timedelta(hours=2)
    )
    request = cancellation_request(
        order_id=order.pk, buyer=order.buyer, reason=CancellationReason.CHANGED_MIND
    )
    approve_row = cancellations._approve_row
    approving = threading.Event()

    def slow_approve_row(*args, **kwargs):
        approved = approve_row(*args, **kwargs)
        approving.set()
        time.sleep(0.5)  # the window in which the other party's cancellation arrives
        return approved

    monkeypatch.setattr(cancellations, "_approve_row", slow_approve_row)
    seller = order.seller

    def approve():
        cancellations.cancellation_approve(
            cancellation_id=request.pk, seller=seller, actor=seller.owner
        )
        return "approved"

    def cancel():
        approving.wait(5)
        try:
            order_cancel(
                order_id=order.pk,
                initiated_by="seller",
                reason=CancellationReason.OUT_OF_STOCK,
                actor=seller.owner,
                seller=seller,
            )
            return "cancelled"
        except CancellationRefused:
            return "refused: already cancelled"

    outcomes = run_at_once(2, lambda i: (approve, cancel)[i]())

    assert outcomes[0] == "approved"
    assert outcomes[1] in {"refused: already cancelled", "cancelled"}
    assert_cancelled_once(order, sku)
