"""Content-Security-Policy (marketplace/middleware.py): on every response, scripts only from our
origin, Stripe.js only in Stripe mode, inline styles only where the admin needs them; and no
template of ours carries inline script."""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from catalog.selectors import product_url
from marketplace.middleware import build_policy, error_page_style_hashes
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.catalog.factories import live_product
from tests.policies.factories import CategoryFactory, PolicyVersionFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

ROOT = Path(__file__).resolve().parent.parent.parent
STRIPE_JS = "https://js.stripe.com"


def policy_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, f"{name} given twice"
        directives[name] = values
    return directives


def assert_base_policy(directives, *, inline_styles=False):
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "frame-src" not in directives  # default-src: our origin only
    assert directives["style-src"][0] == "'self'"
    assert ("'unsafe-inline'" in directives["style-src"]) is inline_styles
    header = " ".join(value for values in directives.values() for value in values)
    assert "'unsafe-eval'" not in header
    assert STRIPE_JS not in header


@pytest.fixture
def public_pages():
    seller = ApprovedSellerFactory(shop_name="Clay Works")
    category = CategoryFactory(name="Kitchen")
    product = live_product(title="Blue mug", seller=seller, category=category)
    version = PolicyVersionFactory()
    return {
        "home": reverse("storefront:home"),
        "category": reverse("catalog:category", args=[category.slug]),
        "search": reverse("catalog:search") + "?q=mug",
        "product": product_url(product),
        "product short link (redirect)": reverse("catalog:product_short", args=[product.pk]),
        "shop": reverse("shops:detail", args=[seller.slug]),
        "policies": reverse("policies:index"),
        "policy": reverse("policies:detail", args=[version.document.slug]),
        "login": reverse("accounts:login"),
        "sign up": reverse("accounts:sign_up"),
        "cart": reverse("cart:detail"),
        "healthz": reverse("healthz"),
        "ping": reverse("ping"),
        "api docs": reverse("api-docs"),
        "not found": "/no-such-page/",
        "static file": "/static/marketplace/css/app.css",
    }


def test_every_public_page_carries_the_policy(client, public_pages):
    for name, url in public_pages.items():
        response = client.get(url)
        assert response.status_code in (200, 301, 302, 404), (name, response.status_code)
        assert "Content-Security-Policy" in response, name
        assert_base_policy(policy_of(response))


def test_head_answers_carry_the_policy_too(client):
    assert_base_policy(policy_of(client.head("/")))


def test_the_policy_is_exactly_this_without_stripe(client):
    response = client.get(reverse("ping"))

    assert response["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def test_the_centers_carry_the_policy(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)
    for url in [
        reverse("seller_center:dashboard"),
        reverse("seller_products:list"),
        reverse("seller_center:settings"),
        reverse("creator_center:dashboard"),
        reverse("accounts:profile"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_base_policy(policy_of(response))


def test_the_seller_application_carries_the_policy(client):
    client.force_login(UserFactory())

    assert_base_policy(policy_of(client.get(reverse("seller_center:apply"))))


def test_the_admin_allows_inline_styles_but_never_inline_scripts(client):
    assert_base_policy(policy_of(client.get(reverse("admin:login"))), inline_styles=True)
    client.force_login(StaffUserFactory())
    for url in [reverse("admin:index"), reverse("admin:accounts_user_changelist")]:
        response = client.get(url)
        assert response.status_code == 200
        assert_base_policy(policy_of(response), inline_styles=True)


def test_stripe_js_is_allowed_only_in_stripe_mode(client, settings):
    settings.PAYMENT_GATEWAY = "stripe"

    for url in ["/", reverse("accounts:login"), reverse("admin:login")]:
        directives = policy_of(client.get(url))
        assert directives["script-src"] == ["'self'", STRIPE_JS]
        assert STRIPE_JS in directives["frame-src"]
        assert "https://hooks.stripe.com" in directives["frame-src"]
        assert "https://api.stripe.com" in directives["connect-src"]
        # Connect onboarding: the payout form's answer redirects to Stripe.
        assert directives["form-action"] == ["'self'", "https://connect.stripe.com"]
        assert directives["object-src"] == ["'none'"]
        assert "'unsafe-inline'" not in directives["script-src"]


def test_a_view_may_set_its_own_policy(rf):
    from django.http import HttpResponse

    from marketplace.middleware import ContentSecurityPolicyMiddleware

    def view(request):
        response = HttpResponse("ok")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    response = ContentSecurityPolicyMiddleware(view)(rf.get("/"))

    assert response["Content-Security-Policy"] == "default-src 'none'"


def _style_hash(html: str) -> list[str]:
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
        for block in re.findall(r"<style[^>]*>(.*?)</style>", html, re.DOTALL)
    ]


def test_the_500_page_styles_are_allowed_by_their_hash_only(monkeypatch):
    from catalog.views import storefront

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(storefront.selectors, "storefront_products", broken)
    client = Client(raise_request_exception=False)

    response = client.get("/")

    html = response.content.decode()
    directives = policy_of(response)
    assert response.status_code == 500
    assert "Something went wrong" in html
    hashes = _style_hash(html)
    assert hashes and all(h in directives["style-src"] for h in hashes)
    assert "'unsafe-inline'" not in directives["style-src"]
    assert_base_policy(directives)


def test_the_csrf_failure_page_styles_are_allowed_by_their_hash(client):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("accounts:login"), {"username": "a@example.com"})

    html = response.content.decode()
    assert response.status_code == 403
    hashes = _style_hash(html)
    assert hashes and all(h in policy_of(response)["style-src"] for h in hashes)


def test_pages_that_succeed_allow_no_inline_style_hash(client):
    assert policy_of(client.get("/"))["style-src"] == ["'self'"]
    assert error_page_style_hashes()  # read from 500.html and Django's CSRF page


def test_debug_error_pages_keep_working_without_a_policy(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Content-Security-Policy" not in response
    assert "Content-Security-Policy" in client.get("/")


def test_build_policy_never_mixes_hashes_with_unsafe_inline():
    policy = build_policy(stripe=False, inline_styles=True, style_hashes=("'sha256-x'",))

    assert "style-src 'self' 'unsafe-inline';" in policy
    assert "sha256" not in policy


# --- The API docs run Swagger UI from static files ---------------------------------------------


def test_the_api_docs_page_has_no_inline_script_or_style(client):
    response = client.get(reverse("api-docs"))

    html = response.content.decode()
    assert response.status_code == 200
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 3
    assert all(" src=" in tag for tag in scripts)
    assert "marketplace/js/swagger-ui-init.js" in html
    assert "<style" not in html
    assert 'data-schema-url="/api/schema/"' in html
    assert_base_policy(policy_of(response))


def test_the_swagger_ui_start_up_script_is_served(client):
    response = client.get("/static/marketplace/js/swagger-ui-init.js")

    assert response.status_code == 200
    assert "SwaggerUIBundle" in b"".join(response.streaming_content).decode()


# --- No inline script or event handler in any template of ours --------------------------------

TEMPLATE_DIRS = sorted(
    path
    for app in ("marketplace", "policies", "sellers", "catalog", "orders", "returns", "affiliates")
    for path in (ROOT / app).rglob("templates")
    if path.is_dir()
)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
# on<event>= as an HTML attribute: preceded by whitespace inside a tag.
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.DOTALL)
NOT_EXECUTED_TYPES = ("application/json", "application/ld+json", "text/template")


def _templates():
    for directory in TEMPLATE_DIRS:
        yield from sorted(directory.rglob("*.html"))


def test_the_templates_are_found():
    names = {path.name for path in _templates()}

    assert {"base.html", "500.html", "swagger_ui.html"} <= names


def test_no_template_has_an_inline_script_event_handler_or_javascript_url():
    offenders = []
    for path in _templates():
        source = path.read_text()
        relative = path.relative_to(ROOT)
        for attributes, body in SCRIPT_TAG.findall(source):
            if "src=" in attributes:
                continue
            if any(kind in attributes for kind in NOT_EXECUTED_TYPES):
                continue
            offenders.append(f"{relative}: inline <script>{body.strip()[:40]}")
        if EVENT_HANDLER.search(source):
            offenders.append(f"{relative}: inline event handler")
        if re.search(r"""(href|src|action)\s*=\s*["']\s*javascript:""", source, re.IGNORECASE):
            offenders.append(f"{relative}: javascript: URL")

    assert not offenders, "\n".join(offenders)


def test_no_storefront_or_center_template_has_inline_styles():
    """Only the admin may use inline styles (CSP_INLINE_STYLE_PATHS); 500.html is allowed by
    the hash of its style block."""
    offenders = []
    for path in _templates():
        relative = path.relative_to(ROOT)
        if "admin" in relative.parts or path.name == "500.html":
            continue
        source = path.read_text()
        if re.search(r"<style\b", source, re.IGNORECASE) or re.search(r"\sstyle\s*=", source):
            offenders.append(str(relative))

    assert not offenders, offenders


def test_htmx_does_not_inject_its_indicator_style(client):
    html = client.get("/").content.decode()

    assert '"includeIndicatorStyles": false' in html
    assert ".htmx-indicator" in (ROOT / "marketplace/static/marketplace/css/app.css").read_text()
