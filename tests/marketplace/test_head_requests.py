"""HEAD answers like GET on every page people or checkers open (load balancers, uptime monitors
and link checkers send HEAD); a view that allows GET must never answer HEAD with 405."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.selectors import product_url
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.catalog.factories import live_product
from tests.policies.factories import CategoryFactory, PolicyVersionFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def catalog_pages():
    seller = ApprovedSellerFactory(shop_name="Clay Works")
    category = CategoryFactory(name="Kitchen")
    product = live_product(title="Blue mug", seller=seller, category=category)
    version = PolicyVersionFactory()
    return {
        "home": reverse("storefront:home"),
        "category": reverse("catalog:category", args=[category.slug]),
        "search empty": reverse("catalog:search"),
        "search": reverse("catalog:search") + "?q=mug",
        "product": product_url(product),
        "product short link": reverse("catalog:product_short", args=[product.pk]),
        "shop": reverse("shops:detail", args=[seller.slug]),
        "policies": reverse("policies:index"),
        "policy": reverse("policies:detail", args=[version.document.slug]),
        "policy version": reverse("policies:version", args=[version.document.slug, version.number]),
        "healthz": reverse("healthz"),
        "ping": reverse("ping"),
        "login": reverse("accounts:login"),
        "sign up": reverse("accounts:sign_up"),
        "password reset": reverse("accounts:password_reset"),
        "cart": reverse("cart:detail"),
        "api docs": reverse("api-docs"),
        "admin login": reverse("admin:login"),
        "seller center (anonymous)": reverse("seller_center:dashboard"),
        "creator center (anonymous)": reverse("creator_center:dashboard"),
    }


def _same_answer(client, url):
    get = client.get(url)
    head = client.head(url)
    assert head.status_code != 405, f"HEAD {url} answers 405"
    assert head.status_code == get.status_code, (url, head.status_code, get.status_code)
    if get.status_code in (301, 302):
        assert head["Location"] == get["Location"]
    assert head.content == b""  # the test client, like the servers, sends no body for HEAD
    return head


def test_head_answers_like_get_on_the_public_pages(client, catalog_pages):
    for name, url in catalog_pages.items():
        response = _same_answer(client, url)
        if name not in (
            "product short link",
            "seller center (anonymous)",
            "creator center (anonymous)",
        ):
            assert response.status_code == 200, (name, url, response.status_code)


def test_head_on_the_home_page_answers_200(client):
    response = client.head("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


def test_head_answers_like_get_on_signed_in_pages(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)
    for url in [
        reverse("seller_center:dashboard"),
        reverse("seller_products:list"),
        reverse("seller_center:settings"),
        reverse("seller_center:staff"),
        reverse("accounts:profile"),
        reverse("orders:list"),
        reverse("creator_center:dashboard"),
    ]:
        assert _same_answer(client, url).status_code == 200, url


def test_head_answers_like_get_on_the_seller_application(client):
    client.force_login(UserFactory())

    assert _same_answer(client, reverse("seller_center:apply")).status_code == 200


def test_head_answers_like_get_in_the_admin(client):
    client.force_login(StaffUserFactory())

    assert _same_answer(client, reverse("admin:index")).status_code == 200


def test_head_through_the_page_cache_never_stores_an_empty_page(client, settings):
    settings.STOREFRONT_PAGE_CACHE = True
    live_product(title="Blue mug")

    assert client.head("/").status_code == 200
    response = client.get("/")

    assert response["X-Page-Cache"] == "hit"
    assert "Blue mug" in response.content.decode()


# --- Structure: no view allows GET but refuses HEAD ---------------------------------------------

APPS = ("marketplace", "policies", "sellers", "catalog", "orders", "returns", "affiliates")
# Views that allow GET but answer HEAD with 405 on purpose, each with its reason.
GET_WITHOUT_HEAD_ALLOWED: set[tuple[str, str]] = set()


def _decorator_refuses_head(decorator: ast.expr) -> bool:
    if isinstance(decorator, ast.Name):
        return decorator.id == "require_GET"
    if (
        isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Name)
        and decorator.func.id == "require_http_methods"
        and decorator.args
        and isinstance(decorator.args[0], ast.List | ast.Tuple)
    ):
        methods = {elt.value for elt in decorator.args[0].elts if isinstance(elt, ast.Constant)}
        return "GET" in methods and "HEAD" not in methods
    return False


def test_no_view_allows_get_but_refuses_head():
    offenders = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            relative = str(path.relative_to(ROOT))
            for node in ast.walk(tree):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if (relative, node.name) in GET_WITHOUT_HEAD_ALLOWED:
                    continue
                if any(_decorator_refuses_head(d) for d in node.decorator_list):
                    offenders.append(f"{relative}:{node.lineno} {node.name}")

    assert not offenders, (
        "These views allow GET but answer HEAD with 405; use require_safe, or add 'HEAD' to "
        "require_http_methods: " + ", ".join(offenders)
    )
