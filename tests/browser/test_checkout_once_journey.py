"""In Chromium: a price raised while the checkout page is open is confirmed before it is charged,
a double-click on "Place order" pays once, and a card declined again and again releases the items.
Run at desktop and phone width. MARKETPLACE_SCREENSHOTS=<dir> keeps what each step looked like."""

import pytest
from playwright.sync_api import expect

from catalog.models import SKU
from marketplace.payments.models import LocalPayment
from orders.models import Checkout, Order, OrderStatus
from tests.accounts.factories import UserFactory
from tests.browser.steps import (
    add_to_cart,
    assert_no_sideways_scroll,
    fill_address,
    screenshot,
    sign_in_at_checkout,
)
from tests.orders.factories import buyable_sku

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_a_price_raised_while_the_page_is_open_is_confirmed_before_it_is_charged(page, viewport):
    if viewport:
        page.set_viewport_size(viewport)
    kettle = buyable_sku(title="Blue kettle", price_minor=1499)
    shopper = UserFactory()
    add_to_cart(page, kettle)
    page.get_by_test_id("cart-link").click()
    sign_in_at_checkout(page, shopper)
    fill_address(page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    SKU.objects.filter(id=kettle.id).update(price_minor=2500)  # the seller, meanwhile

    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("alert")).to_contain_text("The total changed from $14.99 to $25.00")
    screenshot(page, f"price-changed-{'phone' if viewport else 'desktop'}")
    if viewport:
        assert_no_sideways_scroll(page)
    assert not Checkout.objects.exists()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    assert Checkout.objects.get().total_minor == 2500


def test_a_double_click_on_place_order_pays_once(page):
    mug = buyable_sku(title="Stoneware mug", price_minor=1800, stock=20)
    shopper = UserFactory()
    add_to_cart(page, mug)
    page.get_by_test_id("cart-link").click()
    sign_in_at_checkout(page, shopper)
    fill_address(page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")

    page.get_by_role("button", name="Place order").dblclick()

    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    assert LocalPayment.objects.count() == 1
    assert Order.objects.get().status == OrderStatus.ON_HOLD
    assert SKU.objects.get(id=mug.id).stock_on_hand == 19


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_three_declines_release_the_items_and_say_so(page, settings, viewport):
    settings.CHECKOUT_MAX_DECLINES = 3
    if viewport:
        page.set_viewport_size(viewport)
    lamp = buyable_sku(title="Desk lamp", price_minor=3900, stock=1)
    shopper = UserFactory()
    add_to_cart(page, lamp)
    page.get_by_test_id("cart-link").click()
    sign_in_at_checkout(page, shopper)
    fill_address(page)
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_test_id("payment-error")).to_contain_text("declined")
    screenshot(page, f"declined-once-{'phone' if viewport else 'desktop'}")
    for _ in range(2):
        page.get_by_label("Card number").fill("4000 0000 0000 0002")
        page.get_by_role("button", name="Pay").click()

    expect(page.get_by_test_id("checkout-expired")).to_contain_text("After 3 declined payments")
    screenshot(page, f"released-{'phone' if viewport else 'desktop'}")
    if viewport:
        assert_no_sideways_scroll(page)
    assert SKU.objects.get(id=lamp.id).stock_on_hand == 1
    assert not LocalPayment.objects.filter(status=LocalPayment.Status.SUCCEEDED).exists()
