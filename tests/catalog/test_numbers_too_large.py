"""Numbers too large for the database's 32-bit columns (prices, compare-at prices, stock, weight),
whether typed plainly or in exponent notation, are refused with a message by the product form, the
inline price and stock edit, the variant rules and the price service, and nothing is saved."""

import pytest
from django.urls import reverse

from catalog.models import SKU, Product
from catalog.services import listing
from catalog.services.products import MAX_STORED_INTEGER, SkuInput, sku_set_errors
from tests.catalog.factories import draft_product
from tests.policies.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def create_form(**variant) -> dict:
    data = {
        "title": "Stoneware mug",
        "description": "Hand glazed.",
        "category": CategoryFactory().pk,
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "50",
        "variants-0-seller_sku": "MUG-1",
        "variants-0-price": "12.50",
        "variants-0-stock_on_hand": "3",
    }
    data.update({f"variants-0-{name}": value for name, value in variant.items()})
    return data


@pytest.mark.parametrize(
    "variant, field",
    [
        ({"price": "1e15"}, "price"),
        ({"price": "99999999999999999999"}, "price"),
        ({"compare_at_price": "99999999999999999999"}, "compare_at_price"),
        ({"stock_on_hand": "99999999999"}, "stock_on_hand"),
        ({"stock_on_hand": "99999999999999999999999"}, "stock_on_hand"),
        ({"weight_grams": "99999999999"}, "weight_grams"),
    ],
)
def test_a_number_too_large_to_store_is_refused_next_to_its_field(
    listing_owner_client, variant, field
):
    response = listing_owner_client.post(reverse("seller_products:create"), create_form(**variant))

    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors[field]
    assert not Product.objects.exists()


@pytest.mark.parametrize("price, stock", [("1e15", "3"), ("12", "99999999999")])
def test_the_inline_price_edit_refuses_a_number_too_large_with_a_message(
    listing_owner_client, listing_seller, price, stock
):
    product = draft_product(seller=listing_seller)
    sku = product.skus.first()

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": price, "stock_on_hand": stock},
        follow=True,
    )

    assert response.status_code == 200
    assert "Not saved" in " ".join(str(message) for message in response.context["messages"])
    assert SKU.objects.get(pk=sku.pk).price_minor == sku.price_minor


def test_the_variant_rules_refuse_numbers_too_large_for_every_entry_path():
    errors = sku_set_errors([SkuInput("BIG", MAX_STORED_INTEGER + 1, 1)])

    assert "too large" in " ".join(errors["skus"])


def test_the_price_service_refuses_a_number_too_large(listing_seller):
    product = draft_product(seller=listing_seller)
    sku = product.skus.first()
    before = (sku.price_minor, sku.stock_on_hand)

    with pytest.raises(listing.ListingError):
        listing.sku_update_price_and_stock(
            product=product,
            sku_id=sku.pk,
            price_minor=100,
            stock_on_hand=MAX_STORED_INTEGER + 1,
            actor=listing_seller.owner,
        )

    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == before


@pytest.mark.parametrize("price", ["1e999999", "1e99999", "9" * 19])
def test_a_price_in_exponent_notation_is_refused_at_once(listing_owner_client, price):
    response = listing_owner_client.post(
        reverse("seller_products:create"), create_form(price=price)
    )

    assert response.status_code == 200
    assert "too large" in " ".join(response.context["formset"].forms[0].errors["price"])
    assert not Product.objects.exists()
