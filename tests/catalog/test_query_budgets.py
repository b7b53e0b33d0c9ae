"""Query budgets: the category, search, product, shop and home pages run a constant number of
queries (at most 8) however many products, brands, sellers and images they show."""

import io

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog import selectors
from catalog.models import ProductImage
from tests.catalog.factories import BrandFactory, live_product
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

BUDGET = 8


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def catalog():
    """A category tree and a function adding `count` products spread over sellers and brands,
    each with an image."""
    root = CategoryFactory(name="Home")
    leaf = CategoryFactory(name="Lamps", parent=root)
    sellers = [ApprovedSellerFactory() for _ in range(3)]
    brands = [BrandFactory() for _ in range(4)]
    added = []

    def add(count: int):
        for _ in range(count):
            number = len(added)
            product = live_product(
                title=f"Brass lamp {number}",
                category=leaf,
                seller=sellers[number % len(sellers)],
                brand=brands[number % len(brands)],
                prices=(1000 + number, 2000 + number),
                options=[{"Finish": "Brass"}, {"Finish": "Chrome"}],
                rating_x100=400,
                rating_count=2,
            )
            ProductImage.objects.create(product=product, image=png(), position=0)
            added.append(product)
        return added

    return {"root": root, "leaf": leaf, "add": add}


def count_queries(client, url, params=None) -> int:
    cache.clear()  # the home page caches its category counts: count the uncached work
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


LISTING_PAGES = [
    ("category", lambda c: (reverse("catalog:category", args=[c["root"].slug]), {})),
    (
        "category with filters",
        lambda c: (
            reverse("catalog:category", args=[c["root"].slug]),
            {"min_price": "1", "max_price": "100", "rating": "3", "in_stock": "on"},
        ),
    ),
    ("search", lambda c: (reverse("catalog:search"), {"q": "brass lamp"})),
    (
        "search sorted by price",
        lambda c: (reverse("catalog:search"), {"q": "lamp", "sort": "price_asc"}),
    ),
    ("home", lambda c: (reverse("storefront:home"), {})),
]


@pytest.mark.parametrize(("name", "page"), LISTING_PAGES, ids=[name for name, _ in LISTING_PAGES])
def test_a_listing_page_keeps_its_query_count_from_5_to_40_products(client, catalog, name, page):
    catalog["add"](5)
    url, params = page(catalog)
    few = count_queries(client, url, params)

    catalog["add"](35)
    many = count_queries(client, url, params)

    assert few <= BUDGET
    # Equal, or one fewer on PostgreSQL: with a page of exact matches, search skips the query
    # that collects typo-tolerant matches.
    assert few - 1 <= many <= few


def test_the_shop_page_keeps_its_query_count(client, catalog):
    products = catalog["add"](5)
    url = reverse("shops:detail", args=[products[0].seller.slug])
    few = count_queries(client, url)

    catalog["add"](35)
    many = count_queries(client, url)

    assert few <= BUDGET
    assert many == few


def test_the_product_page_keeps_its_query_count_with_more_variants_and_images(client, catalog):
    [small] = catalog["add"](1)
    large = live_product(
        title="Chandelier",
        category=catalog["leaf"],
        prices=tuple(range(5000, 5012)),
        options=[{"Finish": finish, "Size": size} for finish in "ABCD" for size in "SML"],
    )
    for position in range(6):
        ProductImage.objects.create(product=large, image=png(), position=position)

    small_count = count_queries(client, selectors.product_url(small))
    large_count = count_queries(client, selectors.product_url(large))
    variant_count = count_queries(
        client, selectors.product_url(large), {"sku": large.skus.first().pk}
    )

    assert small_count <= BUDGET
    assert large_count == small_count == variant_count
