"""In Chromium: a seller lists a product with two variants and an image, the policy check puts it
live, and a shopper finds it by search (with a typo, where PostgreSQL's trigram search runs) and
opens it; a political-merchandise listing is rejected with its reason shown."""

import io

import pytest
from django.db import connection
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from catalog.models import Product, ProductStatus
from marketplace.accounts.models import User
from policies.demo import seed_policies
from sellers.demo import DEMO_SELLER_PASSWORD, DEMO_SHOPS, seed_shop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 640), (40, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def sign_in(page, email, password):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()


def fill_variant(page, number, colour, sku, price, stock):
    row = page.get_by_role("group", name=f"Variant {number}")
    row.get_by_label("Option").first.fill("Colour")  # "Option", then "Second option"
    row.get_by_label("Value").first.fill(colour)
    row.get_by_label("SKU code").fill(sku)
    row.get_by_label("Price", exact=True).fill(price)
    row.get_by_label("Stock").fill(stock)


def new_listing(page, title, category_label):
    page.goto(reverse("seller_products:create"))
    page.get_by_label("Title").fill(title)
    page.get_by_label("Description").fill("Closed-back, 40 hours of battery, folds flat.")
    page.get_by_label("Category").select_option(label=category_label)


@pytest.fixture
def ready_shop():
    seed_policies()
    User.objects.create_superuser(email="staff@example.com", password="staff-pass-12345")
    shop = DEMO_SHOPS[0]
    seed_shop(shop)
    return shop


def test_a_listing_goes_live_and_a_shopper_finds_and_opens_it(browser, live_server, ready_shop):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, ready_shop.email, DEMO_SELLER_PASSWORD)

    new_listing(page, "Studio Wireless Headphones", "Electronics > Audio")
    fill_variant(page, 1, "Black", "HP-BLK", "89.00", "5")
    fill_variant(page, 2, "White", "HP-WHT", "94.50", "3")
    page.get_by_label("Images").set_input_files(
        {"name": "headphones.png", "mimeType": "image/png", "buffer": png_bytes()}
    )
    page.get_by_role("button", name="Save and submit for review").click()

    expect(page.get_by_text("passed the policy check and is live now")).to_be_visible()
    product = Product.objects.get(title="Studio Wireless Headphones")
    assert product.status == ProductStatus.LIVE
    assert product.skus.count() == 2
    assert product.images.count() == 1
    context.close()

    shopper = browser.new_context(base_url=live_server.url).new_page()
    shopper.goto("/")
    query = "wireles hedphones" if connection.vendor == "postgresql" else "wireless headphones"
    shopper.get_by_role("searchbox").first.fill(query)
    shopper.get_by_role("button", name="Search").first.click()
    shopper.get_by_role("link", name="Studio Wireless Headphones").first.click()

    expect(shopper.get_by_role("heading", name="Studio Wireless Headphones")).to_be_visible()
    expect(shopper.get_by_text("White").first).to_be_visible()
    expect(shopper.get_by_text("$89.00").first).to_be_visible()
    expect(shopper.locator("img[src*='/media/']").first).to_be_visible()


def test_a_political_merchandise_listing_is_rejected_with_its_reason(
    browser, live_server, ready_shop
):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, ready_shop.email, DEMO_SELLER_PASSWORD)

    new_listing(
        page,
        "Vote for Smith 2028 campaign cap",
        "Political merchandise (prohibited: listings are refused)",
    )
    fill_variant(page, 1, "Red", "CAP-RED", "19.00", "10")
    page.get_by_role("button", name="Save and submit for review").click()

    expect(page.get_by_text("was not approved").first).to_be_visible()
    expect(
        page.get_by_text("Political campaign merchandise is not allowed on the marketplace").first
    ).to_be_visible()
    assert Product.objects.get(title__startswith="Vote for Smith").status == ProductStatus.REJECTED
    context.close()
