"""The Seller Center's Orders pages in Chromium, on a desktop and on a phone: the seller finds an
order from the navigation, filters and searches the list, opens the order, and nothing scrolls
sideways at 390 px. MARKETPLACE_SCREENSHOTS=<dir> keeps screenshots of each page and width."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from orders.models import Order, OrderStatus
from orders.services.checkout import checkout_place
from orders.services.transitions import order_transition
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.orders.factories import BuyerAddressFactory, buyable_sku, cart_with
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def place_order(seller, buyer, *, title, quantity=1) -> Order:
    cart_with(buyer, (buyable_sku(seller=seller, title=title, price_minor=3450), quantity))
    checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method="4242424242424242"
    )
    return Order.objects.filter(buyer=buyer).latest("id")


def screenshot(page, name):
    folder = os.environ.get("MARKETPLACE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def assert_no_sideways_scroll(page, width):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide at {width} px"


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_seller_browses_their_orders(browser, live_server, device):
    seller = ApprovedSellerFactory()
    long_name = UserFactory(
        full_name="Bartholomew Fitzgerald-Montgomery",
        email="bartholomew.fitzgerald-montgomery@a-rather-long-domain.example.com",
    )
    first = place_order(seller, long_name, title="Hand-thrown stoneware serving bowl", quantity=2)
    second = place_order(seller, UserFactory(full_name="Ana Ruiz"), title="Linen apron")
    order_transition(order=second, to_status=OrderStatus.AWAITING_SHIPMENT)
    place_order(ApprovedSellerFactory(), UserFactory(), title="Someone else's order")

    width, height = WIDTHS[device]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/accounts/login/?next=/seller/")
        page.get_by_label("Email address").fill(seller.owner.email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
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
        page.get_by_label("Order number or buyer email").fill("bartholomew")
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
