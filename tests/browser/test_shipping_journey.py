"""Shipping in Chromium, on a desktop and on a phone: the seller prints the packing slip, ships an
order in two packages from its page, and opens the bulk page; nothing scrolls sideways at 390 px
and the Content-Security-Policy is never violated. MARKETPLACE_SCREENSHOTS=<dir> keeps
screenshots."""

import pytest
from playwright.sync_api import expect

from orders.models import OrderStatus, Shipment
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


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_seller_ships_an_order_in_two_packages(browser, live_server, device):
    seller = ApprovedSellerFactory()
    buyer = UserFactory(full_name="Bartholomew Fitzgerald-Montgomery")
    order = titled_order(seller, buyer, title="Hand-thrown stoneware serving bowl", quantity=2)
    order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    line = order.lines.get()

    width, height = WIDTHS[device]
    context, page = new_page(browser, live_server, width, height)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        sign_in(page, seller.owner, next_url="/seller/orders/")
        page.get_by_role("link", name=order.number).click()
        expect(page.get_by_role("heading", name="Shipping")).to_be_visible()
        assert_no_sideways_scroll(page, width)

        page.get_by_role("link", name="Print the packing slip").click()
        expect(page.get_by_role("heading", name="Packing slip")).to_be_visible()
        expect(page.get_by_text(line.sku_code)).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"packing-slip-{width}")
        page.get_by_role("link", name="Back to the order").click()

        page.get_by_label("Carrier").first.select_option("ups")
        page.locator("#ship-tracking-1").fill("1Z999AA10123456784")
        page.get_by_text("Items in this package (optional)").first.click()
        page.locator(f"#ship-qty-1-{line.pk}").fill("1")
        page.get_by_text("Add another package").first.click()
        page.locator("#ship-carrier-2").select_option("demo")
        page.locator("#ship-tracking-2").fill("DP 01234 56789")
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"ship-form-{width}")
        page.get_by_role("button", name="Mark as shipped").click()

        expect(page.get_by_text(f"Order {order.number} is shipped")).to_be_visible()
        expect(page.get_by_text("DP0123456789", exact=True)).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"shipped-order-{width}")
        assert Shipment.objects.filter(order=order).count() == 2

        page.goto("/seller/orders/")
        page.get_by_role("link", name="Ship orders from a CSV").click()
        expect(page.get_by_role("heading", name="Ship orders from a CSV")).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"bulk-ship-{width}")
        assert violations == []
    finally:
        context.close()
