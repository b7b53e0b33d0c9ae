"""Steps that several browser journeys share."""

from playwright.sync_api import expect

from catalog.selectors import product_url
from tests.accounts.factories import DEFAULT_PASSWORD


def add_to_cart(page, sku):
    page.goto(product_url(sku.product))
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_text(f"Added {sku.product.title} to your cart")).to_be_visible()


def sign_in_at_checkout(page, user):
    page.get_by_role("link", name="Check out").click()
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()


def fill_address(page):
    page.get_by_label("Full name").fill("Rosa Shopper")
    page.get_by_label("Address line 1").fill("5 Harbour Road")
    page.get_by_label("City").fill("Portland")
    page.get_by_label("Postal code").fill("97201")
