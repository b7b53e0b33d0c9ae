"""Search: PostgreSQL full text with ranking and trigram typo tolerance; on SQLite, a fallback
that finds every word of the query."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog import selectors
from catalog.models import Product, ProductStatus
from tests.catalog.factories import BrandFactory, live_product
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text and trigram search need PostgreSQL"
)
on_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the fallback search runs on SQLite only"
)


def titles(products):
    return [product.title for product in products]


def search(query, **filters):
    return titles(
        selectors.storefront_products(query=query, sort=selectors.SORT_RELEVANCE, **filters)
    )


def test_it_finds_a_word_of_the_title_brand_category_or_description():
    audio = CategoryFactory(name="Audio")
    live_product(title="Aurora over-ear", category=audio, description="Deep bass.")
    live_product(title="Cedar bookshelf", brand=BrandFactory(name="Northwind"))
    live_product(title="Linen shirt")

    assert search("audio") == ["Aurora over-ear"]
    assert search("northwind") == ["Cedar bookshelf"]
    assert search("bass") == ["Aurora over-ear"]
    assert search("teapot") == []


def test_a_product_with_every_word_comes_first():
    live_product(title="Wireless headphones", published_days_ago=3)
    live_product(title="Wired headphones", published_days_ago=0)

    # On SQLite only the first matches; on PostgreSQL the second is a near (trigram) match.
    assert search("wireless headphones")[0] == "Wireless headphones"


def test_hidden_products_are_never_found():
    live_product(title="Ceramic teapot", status=ProductStatus.REJECTED)

    assert search("teapot") == []


def test_filters_apply_to_search_results():
    live_product(title="Cheap teapot", prices=(900,))
    live_product(title="Dear teapot", prices=(9000,))

    assert search("teapot", price_max_minor=1000) == ["Cheap teapot"]


@on_sqlite
def test_the_sqlite_fallback_finds_exact_words_in_any_case_and_puts_title_matches_first():
    live_product(title="Stoneware mug", description="Pairs with our TEAPOT.", published_days_ago=0)
    live_product(title="Stoneware teapot", published_days_ago=5)

    assert search("Teapot") == ["Stoneware teapot", "Stoneware mug"]
    assert search("stoneware mug") == ["Stoneware mug"]
    assert search("tepot") == []  # no typo tolerance without PostgreSQL


@on_postgresql
@pytest.mark.postgres
def test_a_typo_still_finds_the_product():
    live_product(title="Aurora wireless headphones, black")
    live_product(title="Linen shirt")

    assert search("hedphones") == ["Aurora wireless headphones, black"]
    assert search("wireles hedphones") == ["Aurora wireless headphones, black"]


@on_postgresql
@pytest.mark.postgres
def test_full_text_matches_stems_and_rank_before_typo_matches():
    live_product(title="Running sneaker", published_days_ago=3)
    live_product(title="Sneakers for trail running", published_days_ago=5)
    # A title only similar to the query, newer than both: still after the real matches.
    live_product(title="Speakers", published_days_ago=0)

    results = search("sneakers")

    assert set(results[:2]) == {"Running sneaker", "Sneakers for trail running"}
    assert "Speakers" not in results[:2]


@on_postgresql
@pytest.mark.postgres
def test_a_product_mentioning_the_word_more_ranks_higher():
    live_product(title="Tea towel", description="A towel.", published_days_ago=0)
    live_product(
        title="Teapot",
        description="A teapot for loose tea; tea lovers pour tea all day.",
        published_days_ago=9,
    )

    assert search("tea")[0] == "Teapot"


@on_postgresql
@pytest.mark.postgres
def test_with_a_page_of_exact_matches_titles_holding_the_words_rank_first():
    seller, category = ApprovedSellerFactory(), CategoryFactory(name="Kitchen")
    for number in range(selectors.TYPO_TOLERANCE_BELOW):
        live_product(
            title=f"Mug {number}",
            description="Pairs with any teapot.",
            seller=seller,
            category=category,
            published_days_ago=0,
        )
    live_product(title="Stoneware teapot", seller=seller, category=category, published_days_ago=9)

    assert search("teapot")[0] == "Stoneware teapot"


@on_postgresql
@pytest.mark.postgres
def test_a_broad_search_lists_newest_first_and_skips_near_matches(monkeypatch):
    monkeypatch.setattr(selectors, "TYPO_TOLERANCE_BELOW", 2)
    monkeypatch.setattr(selectors, "BROAD_QUERY_MATCHES", 2)
    live_product(title="Stoneware teapot", published_days_ago=9)
    live_product(title="Teapot warmer", description="For a teapot.", published_days_ago=5)
    live_product(title="Small teapot", published_days_ago=1)
    live_product(title="Teapots rack", published_days_ago=0)  # "teapots" stems like "teapot"
    live_product(title="Teacup", published_days_ago=0)  # no match at all

    assert search("teapot") == ["Teapots rack", "Small teapot", "Teapot warmer", "Stoneware teapot"]


def test_a_hyphen_inside_a_word_is_searched_as_two_words():
    assert selectors.normalize_search_query("  heavy-duty   -rust ") == "heavy duty -rust"


@on_postgresql
@pytest.mark.postgres
def test_search_uses_the_indexes_of_migration_0002():
    # Enough rows that scanning the table costs more than the indexes, so the plans show whether
    # the queries' expressions match the indexed ones exactly.
    seller, category = ApprovedSellerFactory(), CategoryFactory()
    Product.objects.bulk_create(
        Product(
            seller=seller,
            category=category,
            status=ProductStatus.LIVE,
            title=f"Walnut side table {number}",
            search_text=f"walnut side table {number} furniture",
        )
        for number in range(3000)
    )
    live_product(title="Aurora wireless headphones")
    with connection.cursor() as cursor:
        # Indexes created on the empty test table know nothing of the rows added since; rebuilt
        # (inside the test's transaction, so rolled back with it) they cost like real ones.
        cursor.execute("REINDEX TABLE catalog_product")
        cursor.execute("ANALYZE")
    with CaptureQueriesContext(connection) as captured:
        list(selectors.storefront_products(query="headphones", sort=selectors.SORT_RELEVANCE))

    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    plans = "\n\n".join(plans)
    assert "catalog_product_search_fts" in plans, plans  # the exact matches
    assert "catalog_product_title_trgm" in plans, plans  # the near ones, as there are few exact


def test_the_search_page_shows_what_it_searched_for(client):
    live_product(title="Ceramic teapot")

    response = client.get(reverse("catalog:search"), {"q": "  teapot  "})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Showing results for" in html and "“teapot”" in html
    assert "Ceramic teapot" in html
    assert 'value="teapot"' in html  # the header search box keeps the query


def test_a_search_with_no_results_suggests_categories(client):
    CategoryFactory(name="Kitchen")

    response = client.get(reverse("catalog:search"), {"q": "zeppelin"})

    html = response.content.decode()
    assert "No products found" in html
    assert "Check the spelling" in html
    assert "Kitchen" in html


def test_the_search_page_without_a_query_offers_a_search_box(client):
    response = client.get(reverse("catalog:search"))

    assert response.status_code == 200
    assert 'name="q"' in response.content.decode()


def test_the_search_page_sorts_by_relevance_by_default_and_by_price_on_request(client):
    live_product(title="Big teapot", prices=(5000,))
    live_product(title="Small teapot", prices=(1000,))

    default = client.get(reverse("catalog:search"), {"q": "teapot"}).content.decode()
    cheapest = client.get(
        reverse("catalog:search"), {"q": "teapot", "sort": "price_asc"}
    ).content.decode()

    assert 'aria-current="true">Best match<' in default
    assert cheapest.index("Small teapot") < cheapest.index("Big teapot")
