"""Cancelling in Chromium, on a desktop and on a phone: the buyer cancels inside the free window
and sees the refund; the seller answers a buyer's request from the order page. Nothing scrolls
sideways at 390 px. MARKETPLACE_SCREENSHOTS=<dir> keeps screenshots of each page and width."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from orders.models import CancellationStatus, Order, OrderCancellation, OrderStatus
from orders.services.cancellations import cancellation_request
from orders.services.transitions import order_transition
from tests.accounts.factories import UserFactory
from tests.browser.steps import (
    WIDTHS,
    assert_no_sideways_scroll,
    new_page,
    screenshot,
    sign_in,
)
from tests.orders.factories import titled_order
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def signed_in_page(browser, live_server, user, device):
    width, height = WIDTHS[device]
    context, page = new_page(browser, live_server, width, height)
    sign_in(page, user)
    return context, page, width


@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_buyer_cancels_inside_the_window_and_sees_the_refund(browser, live_server, device):
    buyer = UserFactory()
    order = titled_order(
        ApprovedSellerFactory(), buyer, title="Hand-thrown stoneware serving bowl", quantity=2
    )
    context, page, width = signed_in_page(browser, live_server, buyer, device)
    try:
        page.goto(f"/orders/{order.pk}/")
        page.get_by_text("Cancel order").click()
        expect(page.get_by_text("You can cancel free of charge for")).to_be_visible()
        page.get_by_label("Reason").select_option("ordered_by_mistake")
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"buyer-cancel-{width}")
        page.get_by_role("button", name="Cancel this order").click()
        expect(page.get_by_text(f"Order {order.number} is cancelled")).to_be_visible()
        # The refund job ran when the cancellation committed (Celery is eager in tests).
        expect(page.get_by_text("Refunded $69.00 to your card")).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"buyer-cancelled-{width}")
    finally:
        context.close()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


@pytest.mark.parametrize("device", list(WIDTHS))
def test_the_seller_answers_a_request_from_the_order_page(browser, live_server, device):
    seller = ApprovedSellerFactory()
    order = titled_order(seller, UserFactory(), title="Linen apron")
    order = order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    pending = cancellation_request(
        order_id=order.pk,
        buyer=order.buyer,
        reason="too_slow",
        note="I need it before a trip that starts on Friday morning, sorry for the trouble.",
        now=order.cancel_window_ends_at + timedelta(minutes=5),
    )
    context, page, width = signed_in_page(browser, live_server, seller.owner, device)
    try:
        page.goto(f"/seller/orders/{order.pk}/")
        expect(page.get_by_text("The buyer asks to cancel this order")).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"seller-cancellation-request-{width}")
        page.get_by_label("Why you decline").fill("Already packed and labelled for the carrier.")
        page.get_by_role("button", name="Decline the request").click()
        expect(page.get_by_text("Request declined")).to_be_visible()
        assert_no_sideways_scroll(page, width)
    finally:
        context.close()
    assert OrderCancellation.objects.get(pk=pending.pk).status == CancellationStatus.REJECTED
