import pytest
from playwright.sync_api import expect

from marketplace.accounts.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-unusual-passphrase-42"


def test_a_shopper_signs_up_signs_out_and_signs_in_again(page):
    page.goto("/")
    expect(page.get_by_text("Test mode").first).to_be_visible()

    page.get_by_role("link", name="Create account").first.click()
    page.get_by_label("Your name").fill("Petra Shopper")
    page.get_by_label("Email address").fill("Petra@Example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_text("Your account is ready")).to_be_visible()
    assert User.objects.filter(email="petra@example.com").exists()

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out")).to_be_visible()

    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email address").fill("petra@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("Signed in as petra@example.com")).to_be_visible()
    expect(page.get_by_text("petra@example.com").first).to_be_visible()


def test_a_wrong_password_shows_a_clear_error_in_the_page(page):
    User.objects.create_user(email="quinn@example.com", password=PASSWORD)

    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill("quinn@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_text("do not match an account")).to_be_visible()


def test_the_home_page_fits_a_phone_screen(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(live_server.url + "/")

    # No sideways scrolling on a phone: the layout fits the viewport.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
    context.close()
