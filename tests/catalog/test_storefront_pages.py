"""The storefront pages: home, category, product and shop pages."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from catalog import selectors
from catalog.models import ProductStatus
from sellers.models import SellerStatus, ShippingTemplate
from tests.catalog.factories import BrandFactory, live_product
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

# The home page caches its category counts for a minute; each test starts without them.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


# --- Home ---------------------------------------------------------------------------------------


def test_the_home_page_features_categories_with_counts_and_the_newest_products(client):
    fashion = CategoryFactory(name="Fashion", position=0)
    shoes = CategoryFactory(name="Shoes", parent=fashion)
    live_product(title="Canvas sneaker", category=shoes)
    live_product(title="Wool scarf", category=fashion)
    live_product(title="Draft boot", category=shoes, status=ProductStatus.DRAFT)

    response = client.get(reverse("storefront:home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("catalog:category", args=[fashion.slug]) in html
    assert "2 products" in html
    assert "Canvas sneaker" in html and "Wool scarf" in html
    assert "Draft boot" not in html
    assert "One marketplace, three ways in" in html  # the audience cards stay


def test_the_home_page_counts_are_cached_for_a_minute(client, django_assert_max_num_queries):
    live_product(category=CategoryFactory(name="Fashion"))
    client.get(reverse("storefront:home"))

    with django_assert_max_num_queries(1):  # the newest products only
        html = client.get(reverse("storefront:home")).content.decode()

    assert "Fashion" in html


def test_the_home_page_without_products_says_so(client):
    html = client.get(reverse("storefront:home")).content.decode()

    assert "No products yet" in html


def test_every_storefront_page_has_the_search_box(client):
    html = client.get(reverse("storefront:home")).content.decode()

    assert f'action="{reverse("catalog:search")}"' in html
    assert 'role="search"' in html


# --- Category page ------------------------------------------------------------------------------


def test_the_category_page_has_a_breadcrumb_subcategories_and_its_subtrees_products(client):
    fashion = CategoryFactory(name="Fashion")
    shoes = CategoryFactory(name="Shoes", parent=fashion)
    boots = CategoryFactory(name="Boots", parent=shoes)
    live_product(title="Chelsea boot", category=boots)
    live_product(title="Wool scarf", category=fashion)

    response = client.get(reverse("catalog:category", args=[shoes.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Shoes</h1>" in html
    breadcrumb = html.split('class="breadcrumb"', 1)[1].split("</nav>", 1)[0]
    assert reverse("catalog:category", args=[fashion.slug]) in breadcrumb
    assert reverse("catalog:category", args=[boots.slug]) in html
    assert "Chelsea boot" in html
    assert "Wool scarf" not in html


def test_an_unknown_category_answers_404(client):
    assert client.get(reverse("catalog:category", args=["nope"])).status_code == 404


def test_the_category_page_filters_by_price_in_currency_units_and_brand(client):
    category = CategoryFactory()
    northwind = BrandFactory(name="Northwind")
    live_product(title="Cheap lamp", category=category, prices=(999,), brand=northwind)
    live_product(title="Dear lamp", category=category, prices=(12000,), brand=northwind)
    live_product(title="Other lamp", category=category, prices=(999,), brand=BrandFactory())

    response = client.get(
        reverse("catalog:category", args=[category.slug]),
        {"min_price": "5", "max_price": "10.00", "brand": [str(northwind.pk)]},
    )

    html = response.content.decode()
    assert "Cheap lamp" in html
    assert "Dear lamp" not in html and "Other lamp" not in html
    assert f'value="{northwind.pk}" checked' in html


def test_a_price_that_is_not_an_amount_shows_an_error_next_to_it_and_is_ignored(client):
    category = CategoryFactory()
    live_product(title="Lamp", category=category)

    response = client.get(reverse("catalog:category", args=[category.slug]), {"min_price": "cheap"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-min-price-error"' in html
    assert "Enter an amount such as 12.50." in html
    assert "Lamp" in html


def test_a_maximum_below_the_minimum_is_refused(client):
    category = CategoryFactory()

    html = client.get(
        reverse("catalog:category", args=[category.slug]), {"min_price": "20", "max_price": "10"}
    ).content.decode()

    assert "The maximum must be at least the minimum." in html


def test_rating_and_stock_filters_and_sorting_apply(client):
    category = CategoryFactory()
    live_product(title="Loved lamp", category=category, rating_x100=460, rating_count=5)
    live_product(title="Meh lamp", category=category, rating_x100=310, rating_count=5)
    live_product(title="Gone lamp", category=category, rating_x100=490, rating_count=5, stock=0)

    html = client.get(
        reverse("catalog:category", args=[category.slug]),
        {"rating": "4", "in_stock": "on", "sort": "rating"},
    ).content.decode()

    assert "Loved lamp" in html
    assert "Meh lamp" not in html and "Gone lamp" not in html


def test_pagination_keeps_the_filters(client):
    category = CategoryFactory()
    seller = ApprovedSellerFactory()
    for number in range(30):
        live_product(title=f"Lamp {number}", category=category, seller=seller, prices=(1000,))

    html = client.get(
        reverse("catalog:category", args=[category.slug]),
        {"max_price": "20", "sort": "price_asc"},
    ).content.decode()
    second = client.get(
        reverse("catalog:category", args=[category.slug]),
        {"max_price": "20", "sort": "price_asc", "page": "2"},
    ).content.decode()

    assert "30 products" in html
    assert "max_price=20&amp;sort=price_asc&amp;page=2" in html
    assert second.count('class="product-card"') == 6


def test_the_sort_links_keep_the_filters_and_go_back_to_the_first_page(client):
    category = CategoryFactory()
    live_product(category=category)
    live_product(category=category)

    html = client.get(
        reverse("catalog:category", args=[category.slug]), {"in_stock": "on", "page": "1"}
    ).content.decode()

    assert 'href="?in_stock=on&amp;sort=price_desc"' in html


# --- Product page -------------------------------------------------------------------------------


def shirt(**fields):
    return live_product(
        title="Washed linen shirt",
        prices=(2500, 2700, 2700),
        options=[
            {"Colour": "Blue", "Size": "M"},
            {"Colour": "Blue", "Size": "L"},
            {"Colour": "Sand", "Size": "M"},
        ],
        **fields,
    )


def test_the_product_page_shows_the_product_with_its_price_range_and_seller(client):
    seller = ApprovedSellerFactory(
        shop_name="Linen Loft", country="PT", approved_at=datetime(2024, 5, 2, tzinfo=UTC)
    )
    ShippingTemplate.objects.create(
        seller=seller, flat_fee_minor=495, free_shipping_threshold_minor=5000
    )
    fashion = CategoryFactory(name="Fashion")
    product = shirt(
        seller=seller,
        category=fashion,
        brand=BrandFactory(name="Northwind"),
        description="**Soft** linen.<script>alert(1)</script>",
    )

    response = client.get(selectors.product_url(product))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Washed linen shirt" in html and "Northwind" in html
    assert "$25.00 – $27.00" in html
    assert "<strong>Soft</strong> linen." in html
    assert "<script>alert(1)</script>" not in html
    assert reverse("shops:detail", args=[seller.slug]) in html
    assert "Linen Loft" in html and "Portugal" in html and "May 2024" in html
    assert "$4.95" in html and "$50.00" in html
    assert reverse("policies:detail", args=["returns-and-refunds"]) in html
    assert reverse("policies:detail", args=["order-shipping"]) in html
    assert f'href="/ip/report/{product.pk}/"' in html
    assert reverse("catalog:category", args=[fashion.slug]) in html
    assert "Add to cart" not in html


def test_a_wrong_slug_redirects_permanently_to_the_canonical_address(client):
    product = shirt()

    response = client.get(reverse("catalog:product", args=[product.pk, "old-title"]) + "?sku=1")

    assert response.status_code == 301
    assert response.url == selectors.product_url(product) + "?sku=1"


def test_the_short_address_redirects_to_the_canonical_one(client):
    product = shirt()

    response = client.get(reverse("catalog:product_short", args=[product.pk]))

    assert response.status_code == 301
    assert response.url == selectors.product_url(product)


@pytest.mark.parametrize(
    "status",
    [
        ProductStatus.DRAFT,
        ProductStatus.PENDING_REVIEW,
        ProductStatus.REJECTED,
        ProductStatus.SELLER_DEACTIVATED,
        ProductStatus.PLATFORM_DEACTIVATED,
        ProductStatus.DELETED,
    ],
)
def test_a_product_that_is_not_live_answers_404(client, status):
    product = shirt(status=status)

    assert client.get(selectors.product_url(product)).status_code == 404
    short = reverse("catalog:product_short", args=[product.pk])
    assert client.get(short).status_code == 404


def test_a_product_of_a_suspended_seller_answers_404(client):
    product = shirt(seller=ApprovedSellerFactory(status=SellerStatus.SUSPENDED))

    assert client.get(selectors.product_url(product)).status_code == 404


def test_choosing_options_leads_to_the_variant_address(client):
    product = shirt()
    sand = product.skus.get(option_values__Colour="Sand")

    response = client.get(selectors.product_url(product), {"option-0": "Sand", "option-1": "M"})

    assert response.status_code == 302
    assert response.url == f"{selectors.product_url(product)}?sku={sand.pk}"


def test_changing_one_option_picks_the_closest_variant_with_the_new_value(client):
    product = shirt()
    blue_large = product.skus.get(option_values={"Colour": "Blue", "Size": "L"})
    sand = product.skus.get(option_values__Colour="Sand")

    # On the Blue/L page the shopper picks Sand; there is no Sand in L, only in M.
    response = client.get(
        selectors.product_url(product),
        {"sku": blue_large.pk, "option-0": "Sand", "option-1": "L"},
    )

    assert response.url.endswith(f"?sku={sand.pk}")


def test_the_variant_page_shows_that_variants_price_stock_and_checked_options(client):
    product = shirt()
    sku = product.skus.get(option_values={"Colour": "Blue", "Size": "L"})
    sku.stock_on_hand = 3
    sku.compare_at_price_minor = 3500
    sku.save()

    html = client.get(selectors.product_url(product), {"sku": sku.pk}).content.decode()

    assert "$27.00" in html and "$25.00 –" not in html
    assert "<s " in html and "$35.00" in html
    assert "Only 3 left" in html
    assert 'name="option-0" value="Blue" checked' in html
    assert 'name="option-1" value="L" checked' in html


def test_a_sold_out_variant_says_so(client):
    product = shirt()
    sku = product.skus.get(option_values={"Colour": "Sand", "Size": "M"})
    sku.stock_on_hand = 0
    sku.save()

    html = client.get(selectors.product_url(product), {"sku": sku.pk}).content.decode()

    assert "Sold out" in html


def test_a_product_with_one_variant_shows_its_price_and_stock_at_once(client):
    product = live_product(title="Teapot", prices=(3900,), stock=40)

    html = client.get(selectors.product_url(product)).content.decode()

    assert "$39.00" in html and "In stock" in html
    assert "variant-picker" not in html


def test_htmx_option_changes_render_in_place_and_push_the_variant_address(client):
    product = shirt()
    sand = product.skus.get(option_values__Colour="Sand")

    response = client.get(
        selectors.product_url(product), {"option-0": "Sand"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"{selectors.product_url(product)}?sku={sand.pk}"


def test_a_sku_of_another_product_is_ignored(client):
    product = shirt()
    other = live_product(title="Other")

    response = client.get(selectors.product_url(product), {"sku": other.skus.get().pk})

    assert response.status_code == 200
    assert "$25.00 – $27.00" in response.content.decode()


# --- Shop page ----------------------------------------------------------------------------------


def test_the_shop_page_lists_the_shops_live_products(client):
    seller = ApprovedSellerFactory(shop_name="Clay Works", description="Hand-made mugs.")
    live_product(title="Speckled mug", seller=seller)
    live_product(title="Hidden mug", seller=seller, status=ProductStatus.SELLER_DEACTIVATED)
    live_product(title="Someone else's mug")

    response = client.get(reverse("shops:detail", args=[seller.slug]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Clay Works</h1>" in html and "Hand-made mugs." in html
    assert "Speckled mug" in html
    assert "Hidden mug" not in html and "Someone else" not in html


def test_the_shop_page_paginates(client):
    seller = ApprovedSellerFactory()
    for number in range(26):
        live_product(title=f"Mug {number}", seller=seller)

    html = client.get(reverse("shops:detail", args=[seller.slug])).content.decode()

    assert html.count('class="product-card"') == 24
    assert "Page 1 of 2" in html


def test_a_suspended_shop_has_no_page(client):
    seller = ApprovedSellerFactory(status=SellerStatus.SUSPENDED)

    assert client.get(reverse("shops:detail", args=[seller.slug])).status_code == 404


def test_the_ping_view_answers_ok_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("ping"))

    assert response.content == b"ok"
