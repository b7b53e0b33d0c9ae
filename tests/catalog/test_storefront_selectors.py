"""What the storefront selectors return: only visible products, filtered and sorted on the
denormalized product fields, a category with its whole subtree."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import selectors
from catalog.models import ProductImage, ProductStatus
from sellers.models import SellerStatus
from tests.catalog.factories import BrandFactory, live_product
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


def titles(products):
    return [product.title for product in products]


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
def test_a_product_that_is_not_live_is_never_listed(status):
    live_product(title="Visible lamp")
    live_product(title="Hidden lamp", status=status)

    assert titles(selectors.storefront_products()) == ["Visible lamp"]
    assert titles(selectors.storefront_products(query="lamp")) == ["Visible lamp"]


@pytest.mark.parametrize(
    "seller_status",
    [SellerStatus.SUSPENDED, SellerStatus.CLOSED, SellerStatus.SUBMITTED, SellerStatus.REJECTED],
)
def test_the_products_of_a_seller_that_is_not_approved_vanish(seller_status):
    seller = ApprovedSellerFactory()
    product = live_product(title="Suspended lamp", seller=seller)
    assert titles(selectors.storefront_products()) == ["Suspended lamp"]

    seller.status = seller_status
    seller.save(update_fields=["status"])

    assert titles(selectors.storefront_products()) == []
    assert selectors.product_detail(product_id=product.pk) is None


def test_a_category_lists_the_products_of_its_whole_subtree():
    fashion = CategoryFactory(name="Fashion")
    shoes = CategoryFactory(name="Shoes", parent=fashion)
    sneakers = CategoryFactory(name="Sneakers", parent=shoes)
    electronics = CategoryFactory(name="Electronics")
    live_product(title="Scarf", category=fashion, published_days_ago=3)
    live_product(title="Boot", category=shoes, published_days_ago=2)
    live_product(title="Runner", category=sneakers, published_days_ago=1)
    live_product(title="Radio", category=electronics)

    assert titles(selectors.storefront_products(category=fashion)) == ["Runner", "Boot", "Scarf"]
    assert titles(selectors.storefront_products(category=shoes)) == ["Runner", "Boot"]
    assert sorted(selectors.category_tree().subtree_ids(fashion.pk)) == sorted(
        [fashion.pk, shoes.pk, sneakers.pk]
    )


def test_the_category_path_runs_from_the_root_to_the_category():
    fashion = CategoryFactory(name="Fashion")
    shoes = CategoryFactory(name="Shoes", parent=fashion)

    path = selectors.category_tree().path(shoes.pk)

    assert [node.name for node in path] == ["Fashion", "Shoes"]


def test_filters_combine_on_price_brand_rating_and_stock():
    northwind = BrandFactory(name="Northwind")
    other = BrandFactory(name="Other")
    live_product(title="Cheap", prices=(900,), brand=northwind, rating_x100=450, rating_count=3)
    live_product(title="Mid", prices=(2500, 4000), brand=northwind, rating_x100=420, rating_count=9)
    live_product(title="Sold out", prices=(2500,), brand=northwind, stock=0, rating_x100=480)
    live_product(title="Other brand", prices=(2500,), brand=other, rating_x100=500)
    live_product(title="Poorly rated", prices=(2500,), brand=northwind, rating_x100=250)

    found = selectors.storefront_products(
        price_min_minor=1000,
        price_max_minor=3000,
        brand_ids=[northwind.pk],
        min_rating_x100=400,
        in_stock_only=True,
    )

    assert titles(found) == ["Mid"]


def test_the_price_filter_compares_with_the_lowest_price_the_card_shows():
    live_product(title="From 20", prices=(2000, 9000))

    assert titles(selectors.storefront_products(price_max_minor=2000)) == ["From 20"]
    assert titles(selectors.storefront_products(price_min_minor=2001)) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (selectors.SORT_NEWEST, ["New", "Middle", "Old"]),
        (selectors.SORT_PRICE_ASC, ["Middle", "New", "Old"]),
        (selectors.SORT_PRICE_DESC, ["Old", "New", "Middle"]),
        (selectors.SORT_RATING, ["Old", "Middle", "New"]),
        # Without a query there is nothing to be relevant to: newest first.
        (selectors.SORT_RELEVANCE, ["New", "Middle", "Old"]),
    ],
)
def test_it_sorts(sort, expected):
    live_product(title="Old", prices=(3000,), published_days_ago=9, rating_x100=490)
    live_product(title="Middle", prices=(1000,), published_days_ago=5, rating_x100=400)
    live_product(title="New", prices=(2000,), published_days_ago=1, rating_x100=100)

    assert titles(selectors.storefront_products(sort=sort)) == expected


def test_a_shops_products_are_only_its_own():
    seller = ApprovedSellerFactory()
    live_product(title="Mine", seller=seller)
    live_product(title="Theirs")

    assert titles(selectors.storefront_products(seller=seller)) == ["Mine"]


def png(name: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_the_card_image_is_the_first_image_by_position():
    product = live_product(title="Lamp")
    for position, name in [(2, "second.png"), (1, "first.png")]:
        ProductImage.objects.create(product=product, image=png(name), position=position)

    [listed] = selectors.storefront_products()

    assert listed.card_image.endswith("first.png")


def test_featured_categories_count_visible_products_of_each_top_level_subtree():
    fashion = CategoryFactory(name="Fashion", position=1)
    shoes = CategoryFactory(name="Shoes", parent=fashion)
    empty = CategoryFactory(name="Empty", position=2)
    live_product(category=fashion)
    live_product(category=shoes)
    live_product(category=shoes, status=ProductStatus.DRAFT)

    featured = {node.name: count for node, count in selectors.storefront_featured_categories()}

    assert featured["Fashion"] == 2
    assert empty.name not in featured
    assert "Shoes" not in featured  # not top level


def test_product_detail_has_active_skus_images_and_the_category_path():
    fashion = CategoryFactory(name="Fashion")
    shoes = CategoryFactory(name="Shoes", parent=fashion)
    product = live_product(
        title="Boot", category=shoes, prices=(5000, 5500), options=[{"Size": "40"}, {"Size": "41"}]
    )
    product.skus.filter(option_values__Size="41").update(is_active=False)

    detail = selectors.product_detail(product_id=product.pk)

    assert [sku.option_values for sku in detail.skus] == [{"Size": "40"}]
    assert [node.name for node in detail.category_path] == ["Fashion", "Shoes"]
    assert detail.images == []


def test_the_product_url_carries_a_slug_of_the_title():
    product = live_product(title="Washed Linen Shirt — Blue!")

    assert selectors.product_url(product) == f"/p/{product.pk}/washed-linen-shirt-blue/"
