"""Addresses carrying a NUL character are refused with 400 before any view runs: PostgreSQL
refuses NUL in text, so one reaching a query would answer 500. The local onboarding page, where
black-box testing found that 500, also refuses a malformed account id on its own."""

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from catalog.selectors import product_url
from marketplace.payments.models import LocalConnectedAccount
from sellers.services.setup import payout_account_connect

pytestmark = pytest.mark.django_db

GUARD = "marketplace.request_guards.RequestGuardMiddleware"


def test_the_guard_runs_before_anything_that_looks_the_address_up():
    middleware = django_settings.MIDDLEWARE
    assert middleware.index(GUARD) < middleware.index("whitenoise.middleware.WhiteNoiseMiddleware")
    assert middleware.index(GUARD) < middleware.index(
        "django.contrib.sessions.middleware.SessionMiddleware"
    )
    # After it, so the 400 still gets the security headers.
    assert middleware.index("django.middleware.security.SecurityMiddleware") < middleware.index(
        GUARD
    )


@pytest.mark.parametrize(
    "address",
    [
        "/payments/local/onboarding/%00/",
        "/payments/local/onboarding/acct_local_%00x/",
        "/search/?q=%00",
        "/search/?q=tea%00pot&sort=price",
        "/search/?%00=teapot",
        "/seller/?tab=%00",
        "/seller/products/?q=lin%00en",
        "/seller/%00/",
        "/orders/?page=%00",
        "/static/marketplace/css/app.css%00",
    ],
)
def test_a_nul_character_in_the_address_answers_400(client, seller, address):
    client.force_login(seller.owner)

    response = client.get(address)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "control character" in response.content.decode()


def test_a_nul_character_in_a_product_address_answers_400(client, product):
    assert client.get(product_url(product) + "?sku=%00").status_code == 400
    assert client.get(f"/p/{product.pk}/tea%00pot/").status_code == 400


def test_anonymous_visitors_and_every_method_get_the_same_answer(client):
    assert client.get("/search/?q=%00").status_code == 400
    assert client.head("/search/?q=%00").status_code == 400
    assert client.post("/cart/?x=%00", {"sku": "1"}).status_code == 400
    assert client.post("/webhooks/stripe/?%00").status_code == 400


@pytest.mark.parametrize(
    "address", ["/search/?q=%2500", "/search/?q=tea+pot%0A", "/search/?q=%C0%80"]
)
def test_addresses_without_a_nul_character_pass(client, product, address):
    # %2500 is the text "%00" (one decoding, as Django does); an overlong NUL decodes to U+FFFD.
    assert client.get(address).status_code == 200


def test_the_onboarding_page_answers_404_for_an_id_that_cannot_be_an_account(
    client, seller, settings
):
    # Without the guard, the view itself must keep a NUL (or any id no account can have) away
    # from the database.
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != GUARD]
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")
    external_id = LocalConnectedAccount.objects.get().external_id
    client.force_login(seller.owner)

    for bad in ("%00", external_id + "%00", "acct%20x", "a" * 41, "acct_%C3%A9"):
        response = client.get(f"/payments/local/onboarding/{bad}/")
        assert response.status_code == 404, bad
    assert client.get(reverse("payments:local_onboarding", args=[external_id])).status_code == 200
