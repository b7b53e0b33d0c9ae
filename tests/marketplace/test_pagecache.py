"""Whole storefront pages are served from the cache only to visitors without a session, with
their own CSRF token, and never after a change that alters what shoppers see."""

import json
import re

import pytest
from django.core.cache import cache
from django.test import Client

from catalog.models import ProductStatus
from catalog.selectors import product_url
from catalog.services.products import product_refresh_listing_fields, product_transition
from marketplace.pagecache import VERSION_KEY
from sellers.models import SellerStatus
from sellers.services.transitions import seller_transition
from tests.accounts.factories import UserFactory
from tests.catalog.factories import LiveProductFactory, SKUFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.STOREFRONT_PAGE_CACHE = True
    # A fresh version: nothing another test cached can be served here.
    cache.set(VERSION_KEY, (cache.get(VERSION_KEY) or 0) + 1000, timeout=None)


@pytest.fixture
def kettle():
    """A live product at $42.00 with 4 in stock (not the shared `product`)."""
    product = LiveProductFactory(title="Cached Kettle")
    SKUFactory(product=product, price_minor=4200, stock_on_hand=4)
    return product_refresh_listing_fields(product=product)


def csrf_token_in(html: str) -> str:
    headers = re.search(r"hx-headers='([^']+)'", html)
    if headers:
        return json.loads(headers.group(1))["X-CSRFToken"]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def test_the_second_anonymous_view_comes_from_the_cache_without_queries(
    kettle, django_assert_num_queries
):
    first = Client().get(product_url(kettle))
    with django_assert_num_queries(0):
        second = Client().get(product_url(kettle))

    assert first["X-Page-Cache"] == "miss"
    assert second["X-Page-Cache"] == "hit"
    assert "Cached Kettle" in second.content.decode()


def test_a_cached_page_carries_a_working_token_of_its_own_visitor(kettle):
    Client().get(product_url(kettle))
    visitor = Client(enforce_csrf_checks=True)

    page = visitor.get(product_url(kettle))
    token = csrf_token_in(page.content.decode())
    response = visitor.post(
        "/accounts/login/", {"username": "x@example.com", "password": "y"}, HTTP_X_CSRFTOKEN=token
    )

    assert page["X-Page-Cache"] == "hit"
    assert "csrf-token-placeholder" not in page.content.decode()
    assert response.status_code == 200  # the form's own error, not a 403 from CSRF


def test_a_signed_in_visitor_is_never_served_from_the_cache(client, kettle):
    Client().get(product_url(kettle))
    client.force_login(UserFactory())

    response = client.get(product_url(kettle))

    assert "X-Page-Cache" not in response


def test_a_price_change_retires_the_cached_page(kettle, django_capture_on_commit_callbacks):
    Client().get(product_url(kettle))
    sku = kettle.skus.get()
    sku.price_minor = 3900
    sku.save()

    with django_capture_on_commit_callbacks(execute=True):
        product_refresh_listing_fields(product=kettle)
    response = Client().get(product_url(kettle))

    assert response["X-Page-Cache"] == "miss"
    assert "$39.00" in response.content.decode()


def test_a_product_taken_off_sale_is_not_served_from_the_cache(
    kettle, django_capture_on_commit_callbacks
):
    assert Client().get(product_url(kettle)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        product_transition(product_id=kettle.pk, to_status=ProductStatus.SELLER_DEACTIVATED)

    assert Client().get(product_url(kettle)).status_code == 404


def test_a_suspended_shop_vanishes_from_cached_pages(kettle, django_capture_on_commit_callbacks):
    assert Client().get(product_url(kettle)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        seller_transition(seller_id=kettle.seller_id, to_status=SellerStatus.SUSPENDED, message="x")

    assert Client().get(product_url(kettle)).status_code == 404


def test_a_visitor_with_a_session_gets_a_fresh_page(client, kettle):
    Client().get(product_url(kettle))
    client.cookies["sessionid"] = "anything"

    assert "X-Page-Cache" not in client.get(product_url(kettle))
