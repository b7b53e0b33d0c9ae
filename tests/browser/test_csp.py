"""In Chromium, under the real Content-Security-Policy: the storefront, a product page (with its
htmx variant picker), sign-in, the Seller Center (with its htmx inline edit), the admin and the
API docs (Swagger UI) load without a single violation, and the scripts still work."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from catalog.selectors import product_url
from marketplace.accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.catalog.factories import live_product
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; Playwright's init scripts are not subject to the page's policy.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


class Watched:
    """A page whose console errors and policy violations are recorded."""

    def __init__(self, browser, live_server):
        self.context = browser.new_context(base_url=live_server.url)
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def _on_console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.console.append(f"{message.type}: {message.text}")

    def goto(self, url):
        response = self.page.goto(url)
        assert response is not None and response.ok, (url, response and response.status)
        assert "Content-Security-Policy" in {name.title() for name in response.headers} or (
            "content-security-policy" in response.headers
        ), url
        return response

    def assert_clean(self, where):
        violations = self.page.evaluate("window.__cspViolations")
        refused = [
            line for line in self.console if "Refused to" in line or "Content Security" in line
        ]
        assert not violations, (where, violations)
        assert not refused, (where, refused)
        assert not self.console, (where, self.console)


@pytest.fixture
def shop():
    owner = User.objects.create_user(email="owner@example.com", password=DEFAULT_PASSWORD)
    seller = ApprovedSellerFactory(owner=owner, shop_name="Clay Works")
    product = live_product(
        title="Glazed mug",
        seller=seller,
        category=CategoryFactory(name="Kitchen"),
        prices=(1500, 1900),
        options=[{"Colour": "Blue"}, {"Colour": "White"}],
    )
    User.objects.create_superuser(email="staff@example.com", password="staff-pass-12345")
    return product


def sign_in(watched, email, password):
    watched.goto(reverse("accounts:login"))
    watched.assert_clean("login page")
    watched.page.get_by_label("Email address").fill(email)
    watched.page.get_by_label("Password").fill(password)
    watched.page.get_by_role("button", name="Sign in").click()
    expect(watched.page.get_by_text(f"Signed in as {email}")).to_be_visible()


def test_the_storefront_and_a_product_page_run_clean_and_htmx_works(browser, live_server, shop):
    watched = Watched(browser, live_server)
    page = watched.page

    watched.goto("/")
    expect(page.get_by_role("link", name="Glazed mug").first).to_be_visible()
    watched.assert_clean("home")

    watched.goto(product_url(shop))
    expect(page.get_by_role("heading", name="Glazed mug")).to_be_visible()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads instead
    page.get_by_role("radio", name="White").check()

    expect(page.locator("#buy-box").get_by_text("$19.00")).to_be_visible()
    expect(page.get_by_text("Selected: White")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "htmx did not swap; the page reloaded"
    assert page.evaluate("document.querySelectorAll('head style').length") == 0
    watched.assert_clean("product page")
    watched.context.close()


def test_sign_in_and_the_seller_center_run_clean_and_its_htmx_edit_works(
    browser, live_server, shop
):
    watched = Watched(browser, live_server)
    page = watched.page
    sign_in(watched, "owner@example.com", DEFAULT_PASSWORD)

    watched.goto(reverse("seller_center:dashboard"))
    watched.assert_clean("Seller Center dashboard")

    watched.goto(reverse("seller_products:list"))
    page.evaluate("window.__sameDocument = true")
    sku = shop.skus.order_by("position").first()
    page.get_by_label(f"Price of {sku.seller_sku}").fill("17.50")
    page.locator(f"#product-row-{shop.pk}").get_by_role("button", name="Save").first.click()

    expect(page.locator(f"#product-row-{shop.pk}").get_by_text("Saved")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True, "htmx did not swap; the page reloaded"
    sku.refresh_from_db()
    assert sku.price_minor == 1750
    watched.assert_clean("Seller Center products")
    watched.context.close()


def test_the_admin_runs_clean(browser, live_server, shop):
    watched = Watched(browser, live_server)
    page = watched.page

    watched.goto(reverse("admin:login"))
    watched.assert_clean("admin login")
    page.get_by_label("Email address").fill("staff@example.com")
    page.get_by_label("Password").fill("staff-pass-12345")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")))

    for url in [reverse("admin:index"), reverse("admin:accounts_user_changelist")]:
        watched.goto(url)
        watched.assert_clean(url)
    watched.context.close()


def test_the_api_docs_render_swagger_ui_clean(browser, live_server, shop):
    watched = Watched(browser, live_server)
    page = watched.page

    watched.goto(reverse("api-docs"))

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Marketplace API")
    # The operations area: the endpoints, or Swagger UI's own note when there are none yet.
    expect(
        page.locator(".swagger-ui .opblock-tag-section, .swagger-ui .wrapper").first
    ).to_be_visible()
    watched.assert_clean("API docs")
    watched.context.close()
