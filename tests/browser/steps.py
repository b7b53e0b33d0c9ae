"""Steps that several browser journeys share."""

import os
from pathlib import Path

from playwright.sync_api import expect

from catalog.selectors import product_url
from tests.accounts.factories import DEFAULT_PASSWORD

# The widths a journey runs at: (width, height) of the viewport.
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def new_page(browser, live_server, width: int, height: int):
    """A fresh browser context on the live server at `width` x `height`, and its page."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": height}
    )
    context.set_default_timeout(10_000)
    return context, context.new_page()


def sign_in(page, user, *, next_url: str | None = None):
    """Sign `user` in from the login page (with the factories' password), then go to `next_url`."""
    page.goto("/accounts/login/" + (f"?next={next_url}" if next_url else ""))
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def screenshot(page, name: str) -> None:
    """With MARKETPLACE_SCREENSHOTS=<dir>, keep a full-page screenshot as <dir>/<name>.png."""
    folder = os.environ.get("MARKETPLACE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def assert_no_sideways_scroll(page, width: int | None = None) -> None:
    """The page is no wider than `width` (by default, the viewport's)."""
    width = width or page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide at {width} px"


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


# Runs before any page script (Playwright's init scripts are not subject to the page's policy):
# each page keeps the Content-Security-Policy violations it saw in window.__cspViolations.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def new_watched_page(browser, live_server, width: int, height: int):
    """`new_page`, with every page of the context recording its policy violations."""
    context, page = new_page(browser, live_server, width, height)
    context.add_init_script(RECORD_CSP_VIOLATIONS)  # from the first navigation on
    return context, page


def assert_no_csp_violations(page) -> None:
    """The page loaded so far broke no Content-Security-Policy rule (pages from
    `new_watched_page`; check before leaving each page, the record is per page)."""
    violations = page.evaluate("window.__cspViolations")
    assert violations is not None, f"{page.url} does not record violations: use new_watched_page"
    assert not violations, (page.url, violations)


def download_csv(page, link) -> tuple[str, list[dict[str, str]]]:
    """Click `link` (a locator for a download link) and read the file it downloads as CSV:
    the suggested file name and its rows as dicts keyed by the header."""
    import csv

    with page.expect_download() as info:
        link.click()
    download = info.value
    failure = download.failure()
    assert failure is None, f"the download of {download.url} failed: {failure}"
    with open(download.path(), newline="", encoding="utf-8") as handle:
        return download.suggested_filename, list(csv.DictReader(handle))


def stat_value(page, label: str):
    """The value locator of the Seller Center stat card (components/stat.html) labelled `label`."""
    import re

    label_pattern = re.compile(rf"^\s*{re.escape(label)}\s*$")
    card = page.locator(".stat").filter(has=page.locator(".stat-label", has_text=label_pattern))
    return card.locator(".stat-value")
