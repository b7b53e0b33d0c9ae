import pytest
from playwright.sync_api import expect

from marketplace.ledger.models import LedgerTransaction
from marketplace.payments.models import LocalPayment
from orders.models import Order, OrderStatus
from tests.accounts.factories import UserFactory
from tests.browser.steps import add_to_cart, fill_address, sign_in_at_checkout
from tests.orders.factories import buyable_sku

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_shopper_buys_from_two_shops_in_one_checkout(page):
    mug = buyable_sku(title="Stoneware mug", price_minor=1800)
    scarf = buyable_sku(title="Wool scarf", price_minor=4500)
    shopper = UserFactory()

    add_to_cart(page, mug)
    add_to_cart(page, scarf)
    expect(page.get_by_test_id("cart-link")).to_have_text("Cart (2)")
    expect(page.get_by_role("heading", name=mug.product.seller.shop_name)).to_be_visible()
    expect(page.get_by_role("heading", name=scarf.product.seller.shop_name)).to_be_visible()

    sign_in_at_checkout(page, shopper)
    fill_address(page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_role("heading", name="Thank you for your order")).to_be_visible()
    expect(page.get_by_test_id("placed-order")).to_have_count(2)
    expect(page.get_by_test_id("cart-link")).to_have_text("Cart (0)")
    assert Order.objects.filter(buyer=shopper, status=OrderStatus.ON_HOLD).count() == 2

    page.get_by_role("link", name="All your orders").click()
    expect(page.get_by_text("Paid: on hold")).to_have_count(2)


def test_a_declined_card_shows_a_clear_error_and_charges_nothing(page):
    lamp = buyable_sku(title="Desk lamp", price_minor=3900)
    shopper = UserFactory()

    add_to_cart(page, lamp)
    page.get_by_test_id("cart-link").click()
    sign_in_at_checkout(page, shopper)
    fill_address(page)
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Place order").click()

    expect(page.get_by_test_id("payment-error")).to_contain_text("declined")
    expect(page.get_by_test_id("payment-error")).to_contain_text("Nothing was charged")
    assert not LocalPayment.objects.filter(status=LocalPayment.Status.SUCCEEDED).exists()
    assert not LedgerTransaction.objects.exists()
    assert Order.objects.get(buyer=shopper).status == OrderStatus.UNPAID
