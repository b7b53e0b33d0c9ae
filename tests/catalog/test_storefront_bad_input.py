"""Whatever a visitor types into a storefront address answers a page, never a server error."""

import pytest

from catalog.selectors import product_url

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "?brand=²",
        "?brand=99999999999999999999999",
        "?min_price=1e999990",
        "?max_price=1e999999",
        "?min_price=abc&max_price=-5",
    ],
)
def test_listing_filters_ignore_what_cannot_be_a_filter(client, product, query):
    response = client.get(f"/c/{product.category.slug}/{query}")

    assert response.status_code in (200, 400)


def test_a_search_with_a_nul_character_answers_400_not_500(client, product):
    # PostgreSQL refuses NUL in text; marketplace/request_guards.py stops it before any view.
    assert client.get("/search/", {"q": "tea\x00pot"}).status_code == 400


@pytest.mark.parametrize("sku", ["²", "99999999999999999999999", "-1", "x"])
def test_a_product_page_ignores_a_variant_id_that_cannot_be_one(client, product, sku):
    response = client.get(product_url(product), {"sku": sku})

    assert response.status_code == 200
    assert "Sturdy Teapot" in response.content.decode()
