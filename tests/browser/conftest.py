"""Chromium through Playwright, for tests that drive the real pages.

Playwright's own browser download cannot run on these machines, so the tests use Debian's
`chromium` package. Where it is not installed the browser tests are skipped with that reason;
CI sets MARKETPLACE_REQUIRE_BROWSER=1, which turns the missing browser into a failure.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("MARKETPLACE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the live server's database work
    # happens in its own thread, and the test's own ORM calls are safe to make between steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _storefront_page_cache_on(settings):
    """Browser tests run with whole-page caching, as production does: what a shopper sees after a
    seller's change proves the cache was retired at the right moment."""
    settings.STOREFRONT_PAGE_CACHE = True


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
