"""An order's life after payment, in Chromium, on a desktop and on a phone: the shopper buys from
two shops at once, cancels one order inside the free hour (and sees the refund), the other shop
ships with a tracking number of the demo carrier, the tracking job follows the parcel to the door
(run with a `now` in the future), and the shopper reads the timeline and confirms receipt.
MARKETPLACE_SCREENSHOTS=<dir> keeps a screenshot of each step at each width."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order, OrderStatus, Refund, RefundStatus
from orders.services.fulfilment import orders_release_for_shipment
from orders.services.tracking import tracking_poll_due
from tests.accounts.factories import UserFactory
from tests.browser.steps import (
    WIDTHS,
    add_to_cart,
    assert_no_sideways_scroll,
    fill_address,
    new_page,
    screenshot,
    sign_in,
    sign_in_at_checkout,
)
from tests.orders.factories import buyable_sku
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("device", list(WIDTHS))
def test_an_order_from_payment_to_receipt(browser, live_server, device):
    width, height = WIDTHS[device]
    vase_shop = ApprovedSellerFactory(shop_name="Vase Works")
    lamp_shop = ApprovedSellerFactory(shop_name="Lamp Loft")
    vase = buyable_sku(seller=vase_shop, title="Speckled vase", price_minor=4200)
    lamp = buyable_sku(seller=lamp_shop, title="Brass desk lamp", price_minor=6100)
    shopper = UserFactory(full_name="Rosa Shopper")
    shop_context, shop = new_page(browser, live_server, width, height)
    seller_context, seller_page = new_page(browser, live_server, width, height)
    try:
        # The shopper buys from both shops in one checkout.
        add_to_cart(shop, vase)
        add_to_cart(shop, lamp)
        shop.get_by_test_id("cart-link").click()
        sign_in_at_checkout(shop, shopper)
        fill_address(shop)
        shop.get_by_label("Card number").fill("4242 4242 4242 4242")
        shop.get_by_role("button", name="Place order").click()
        expect(shop.get_by_role("heading", name="Thank you for your order")).to_be_visible()
        expect(shop.get_by_test_id("placed-order")).to_have_count(2)
        vase_order = Order.objects.get(buyer=shopper, seller=vase_shop)
        lamp_order = Order.objects.get(buyer=shopper, seller=lamp_shop)

        # Inside the free hour: the vase order is cancelled and refunded.
        shop.get_by_role("link", name=f"Order {vase_order.number}").click()
        expect(shop.get_by_role("heading", name=f"Order {vase_order.number}")).to_be_visible()
        shop.get_by_text("Cancel order", exact=True).click()
        shop.get_by_label("Reason").select_option("changed_mind")
        shop.get_by_role("button", name="Cancel this order").click()
        expect(shop.get_by_text(f"Order {vase_order.number} is cancelled.")).to_be_visible()
        expect(shop.locator(".order-refund")).to_contain_text("$42.00")
        assert Order.objects.get(pk=vase_order.pk).status == OrderStatus.CANCELLED
        assert Refund.objects.get(order=vase_order).status == RefundStatus.SUCCEEDED
        assert_no_sideways_scroll(shop, width)
        screenshot(shop, f"order-life-cancelled-{width}")

        # The free hour passes (the release job, an hour and a bit on).
        orders_release_for_shipment(now=timezone.now() + timedelta(minutes=61))
        assert Order.objects.get(pk=lamp_order.pk).status == OrderStatus.AWAITING_SHIPMENT

        # The lamp shop ships it with the demo carrier.
        sign_in(seller_page, lamp_shop.owner, next_url=f"/seller/orders/{lamp_order.pk}/")
        expect(
            seller_page.get_by_role("heading", name=f"Order {lamp_order.number}")
        ).to_be_visible()
        expect(seller_page.locator(".order-deadlines")).to_contain_text("Ship by")
        screenshot(seller_page, f"order-life-seller-to-ship-{width}")
        package = seller_page.get_by_role("group", name="Package 1")
        package.get_by_label("Carrier").select_option("demo")
        package.get_by_label("Tracking number").fill("DP0123456789")
        seller_page.get_by_role("button", name="Mark as shipped").click()
        expect(seller_page.get_by_text(f"Order {lamp_order.number} is shipped")).to_be_visible()
        assert_no_sideways_scroll(seller_page, width)
        screenshot(seller_page, f"order-life-seller-shipped-{width}")

        # The tracking job, run as if three hours later: the parcel is delivered.
        tracking_poll_due(now=timezone.now() + timedelta(hours=3), min_interval=timedelta(0))
        assert Order.objects.get(pk=lamp_order.pk).status == OrderStatus.DELIVERED

        # The shopper reads the timeline and confirms receipt.
        shop.goto(f"/orders/{lamp_order.pk}/")
        expect(shop.get_by_role("heading", name=f"Order {lamp_order.number}")).to_be_visible()
        expect(shop.get_by_text("DP0123456789", exact=True)).to_be_visible()
        for step in ("Picked up by the carrier", "Out for delivery today", "Delivered"):
            expect(shop.locator(".package .timeline").get_by_text(step, exact=True)).to_be_visible()
        assert_no_sideways_scroll(shop, width)
        screenshot(shop, f"order-life-delivered-{width}")
        shop.get_by_text("I received this order").click()
        shop.get_by_role("button", name="Yes, I received everything").click()
        expect(shop.get_by_text(f"Thanks: order {lamp_order.number} is complete.")).to_be_visible()
        expect(shop.get_by_text("I received this order")).to_have_count(0)
        assert Order.objects.get(pk=lamp_order.pk).status == OrderStatus.COMPLETED
        assert_no_sideways_scroll(shop, width)
        screenshot(shop, f"order-life-completed-{width}")
    finally:
        shop_context.close()
        seller_context.close()
