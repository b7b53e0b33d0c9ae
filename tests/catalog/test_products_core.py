import pytest

from catalog.models import SKU, Product, ProductStatus, ProductStatusEvent
from catalog.services.products import (
    InvalidProduct,
    SkuInput,
    brand_for_name,
    product_create,
    product_transition,
)
from marketplace.errors import IllegalTransition
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


def make_product(**overrides):
    arguments = {
        "seller": ApprovedSellerFactory(),
        "title": "  Washed   linen shirt ",
        "description": "Soft and breathable.",
        "category": CategoryFactory(name="Shirts"),
        "brand_name": "Northwind",
        "skus": [
            SkuInput("SHIRT-S", 2500, 3, {"Size": "S"}),
            SkuInput("SHIRT-M", 2700, 0, {"Size": "M"}, compare_at_price_minor=3000),
        ],
    }
    return product_create(**{**arguments, **overrides})


def test_it_creates_a_draft_with_its_skus_and_listing_fields():
    product = make_product()

    assert product.status == ProductStatus.DRAFT
    assert product.title == "Washed linen shirt"
    assert list(product.skus.values_list("seller_sku", flat=True)) == ["SHIRT-S", "SHIRT-M"]
    assert (product.price_min_minor, product.price_max_minor, product.in_stock) == (
        2500,
        2700,
        True,
    )
    assert "northwind" in product.search_text and "shirts" in product.search_text
    assert product.brand.name == "Northwind"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "   "}, "title"),
        ({"skus": []}, "skus"),
        ({"skus": [SkuInput("A", 0, 1)]}, "skus"),
        ({"skus": [SkuInput("A", 100, -1)]}, "skus"),
        ({"skus": [SkuInput("A", 100, 1), SkuInput("A", 200, 1, {"Size": "L"})]}, "skus"),
        (
            {"skus": [SkuInput("A", 100, 1, {"Size": "L"}), SkuInput("B", 200, 1, {"Size": "L"})]},
            "skus",
        ),
        ({"skus": [SkuInput("A", 100, 1, compare_at_price_minor=100)]}, "skus"),
    ],
)
def test_invalid_input_is_refused_per_field_and_nothing_is_written(overrides, field):
    with pytest.raises(InvalidProduct) as error:
        make_product(**overrides)

    assert field in error.value.field_errors
    assert not Product.objects.exists()
    assert not SKU.objects.exists()


def test_brands_are_matched_ignoring_case_and_spacing():
    assert brand_for_name("North  Wind") == brand_for_name("north wind")
    assert brand_for_name("  ") is None


def test_a_legal_transition_is_audited_and_an_illegal_one_changes_nothing():
    product = make_product()

    product_transition(
        product_id=product.pk, to_status=ProductStatus.PENDING_REVIEW, message="Submitted"
    )
    with pytest.raises(IllegalTransition):
        product_transition(product_id=product.pk, to_status=ProductStatus.SELLER_DEACTIVATED)

    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert list(
        ProductStatusEvent.objects.filter(product=product).values_list("to_status", flat=True)
    ) == [ProductStatus.PENDING_REVIEW, ProductStatus.DRAFT]


def test_going_live_stamps_the_publication_date_once():
    product = make_product()
    product_transition(product_id=product.pk, to_status=ProductStatus.PENDING_REVIEW)
    product = product_transition(product_id=product.pk, to_status=ProductStatus.LIVE)
    first_published = product.published_at

    product_transition(product_id=product.pk, to_status=ProductStatus.SELLER_DEACTIVATED)
    product = product_transition(product_id=product.pk, to_status=ProductStatus.LIVE)

    assert first_published is not None
    assert product.published_at == first_published


def test_the_database_refuses_negative_stock():
    from django.db import IntegrityError, transaction

    product = make_product()
    with pytest.raises(IntegrityError), transaction.atomic():
        SKU.objects.filter(product=product).update(stock_on_hand=-1)
