"""The Seller Center's Orders pages in Chromium, on a desktop and on a phone: the seller finds an
order from the navigation, filters and searches the list, opens the order, and nothing scrolls
sideways at 390 px. MARKETPLACE_SCREENSHOTS=<dir> keeps screenshots of each page and width."""

import pytest
from playwright.sync_api import expect

from orders.models import OrderStatus
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
def test_a_seller_browses_their_orders(browser, live_server, device):
    seller = ApprovedSellerFactory()
    long_name = UserFactory(
        full_name="Bartholomew Fitzgerald-Montgomery",
        email="bartholomew.fitzgerald-montgomery@a-rather-long-domain.example.com",
    )
    first = titled_order(seller, long_name, title="Hand-thrown stoneware serving bowl", quantity=2)
    second = titled_order(seller, UserFactory(full_name="Ana Ruiz"), title="Linen apron")
    order_transition(order=second, to_status=OrderStatus.AWAITING_SHIPMENT)
    titled_order(ApprovedSellerFactory(), UserFactory(), title="Someone else's order")

    width, height = WIDTHS[device]
    context, page = new_page(browser, live_server, width, height)
    try:
        sign_in(page, seller.owner, next_url="/seller/")
        orders_link = page.get_by_role("navigation", name="Seller Center").get_by_role(
            "link", name="Orders"
        )
        expect(orders_link).to_be_visible()
        orders_link.click()
        expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
        rows = page.locator("table tbody tr")
        expect(rows).to_have_count(2)
        expect(page.get_by_role("link", name=first.number)).to_be_visible()
        expect(page.get_by_text("Someone else's order")).to_have_count(0)
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"seller-orders-list-{width}")

        page.get_by_role("navigation", name="Order status").get_by_role(
            "link", name="To ship"
        ).click()
        expect(rows).to_have_count(1)
        expect(page.get_by_role("link", name=second.number)).to_be_visible()

        page.get_by_role("navigation", name="Order status").get_by_role("link", name="All").click()
        page.get_by_label("Order number, buyer or SKU").fill("bartholomew")
        page.get_by_role("button", name="Search").click()
        expect(rows).to_have_count(1)
        assert_no_sideways_scroll(page, width)

        page.get_by_role("link", name=first.number).click()
        expect(page.get_by_role("heading", name=f"Order {first.number}")).to_be_visible()
        expect(page.get_by_text("Hand-thrown stoneware serving bowl")).to_be_visible()
        expect(page.get_by_text("You receive")).to_be_visible()
        assert_no_sideways_scroll(page, width)
        screenshot(page, f"seller-orders-detail-{width}")
    finally:
        context.close()
