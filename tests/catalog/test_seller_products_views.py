"""Seller Center product pages: the list (tabs, search, filter, query budget; a filter or search it
cannot use answers a page, never a 500), create and edit, the product page with its review history
and actions (a product taken down cannot be copied), images, the htmx price and stock edit (never
on a deleted product), and seller isolation (another seller's product answers 404 everywhere)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import SKU, Product, ProductImage, ProductRevision, ProductStatus
from catalog.services import listing
from catalog.services.images import product_image_add
from policies.models import KeywordRule
from sellers.models import SellerRole
from tests.catalog.factories import (
    draft_product,
    image_upload,
    reviewed_live_product,
    taken_down_product,
)
from tests.policies.factories import CategoryFactory, KeywordRuleFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def list_url(**params):
    url = reverse("seller_products:list")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def titles_in(response) -> list[str]:
    return [product.title for product in response.context["rows"]]


# --- List ----------------------------------------------------------------------------------------


def test_the_list_has_status_tabs_with_counts(listing_owner_client, listing_seller):
    reviewed_live_product(seller=listing_seller, title="Live shirt")
    draft_product(seller=listing_seller, title="Draft shirt")
    deleted = draft_product(seller=listing_seller, title="Deleted shirt")
    listing.product_delete(product=deleted, actor=listing_seller.owner)

    response = listing_owner_client.get(list_url())

    counts = {item["tab"].key: item["count"] for item in response.context["tabs"]}
    assert counts == {
        "all": 2,
        "live": 1,
        "pending": 0,
        "rejected": 0,
        "drafts": 1,
        "deactivated": 0,
        "deleted": 1,
    }
    assert sorted(titles_in(response)) == ["Draft shirt", "Live shirt"]
    assert titles_in(listing_owner_client.get(list_url(status="deleted"))) == ["Deleted shirt"]
    assert titles_in(listing_owner_client.get(list_url(status="live"))) == ["Live shirt"]


def test_the_list_searches_titles_and_sku_codes_and_filters_by_category(
    listing_owner_client, listing_seller
):
    shoes = CategoryFactory(name="Shoes")
    boots = CategoryFactory(name="Boots", parent=shoes)
    draft_product(seller=listing_seller, title="Linen shirt")
    draft_product(seller=listing_seller, title="Hiking boot", category=boots)

    assert titles_in(listing_owner_client.get(list_url(q="linen"))) == ["Linen shirt"]
    assert len(titles_in(listing_owner_client.get(list_url(q="shirt-m")))) == 2  # both have SHIRT-M
    # A category includes the categories below it.
    assert titles_in(listing_owner_client.get(list_url(category=shoes.pk))) == ["Hiking boot"]


def test_the_list_shows_only_the_sellers_own_products(listing_owner_client, listing_seller):
    draft_product(seller=listing_seller, title="Mine")
    draft_product(seller=ApprovedSellerFactory(), title="Theirs")

    response = listing_owner_client.get(list_url())

    assert titles_in(response) == ["Mine"]
    assert "Theirs" not in response.content.decode()


def test_the_list_paginates_25_a_page(listing_owner_client, listing_seller):
    for number in range(27):
        draft_product(seller=listing_seller, title=f"Shirt {number}")

    first = listing_owner_client.get(list_url())
    second = listing_owner_client.get(list_url(page=2))

    assert len(first.context["rows"]) == 25 and len(second.context["rows"]) == 2


def test_the_list_page_query_count_does_not_grow_with_products(client, listing_seller):
    client.force_login(listing_seller.owner)

    def queries_for(count: int) -> int:
        Product.objects.filter(seller=listing_seller).delete()
        for number in range(count):
            product = draft_product(seller=listing_seller, title=f"Shirt {number}")
            if number % 2:
                product_image_add(product=product, upload=image_upload(size=(40, 40)))
        with CaptureQueriesContext(connection) as captured:
            response = client.get(list_url())
        assert response.status_code == 200
        assert len(response.context["rows"]) == min(count, 25)
        return len(captured)

    few, many = queries_for(3), queries_for(30)

    assert few == many
    assert many <= 10


def test_the_list_stays_within_its_query_budget(
    client, listing_seller, django_assert_max_num_queries
):
    client.force_login(listing_seller.owner)
    for number in range(30):
        draft_product(seller=listing_seller, title=f"Shirt {number}")

    with django_assert_max_num_queries(10):
        client.get(list_url(q="shirt"))


@pytest.mark.parametrize("category", ["%C2%B2", "abc", "99999999999999999999999", "-1"])
def test_the_product_list_ignores_a_category_filter_that_is_not_a_category(
    listing_owner_client, listing_seller, category
):
    draft_product(seller=listing_seller, title="Linen shirt")

    response = listing_owner_client.get(reverse("seller_products:list") + f"?category={category}")

    assert response.status_code == 200
    assert response.context["category_id"] is None
    assert [row.title for row in response.context["rows"]] == ["Linen shirt"]


def test_the_product_list_search_with_a_nul_character_answers_400_not_500(
    listing_owner_client, listing_seller
):
    draft_product(seller=listing_seller, title="Linen shirt")

    response = listing_owner_client.get(reverse("seller_products:list") + "?q=lin%00en")

    # PostgreSQL refuses NUL in text; marketplace/request_guards.py stops it before any view.
    assert response.status_code == 400


# --- Create ------------------------------------------------------------------------------------


def variant_data(rows, *, initial=0):
    data = {
        "variants-TOTAL_FORMS": str(len(rows)),
        "variants-INITIAL_FORMS": str(initial),
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "50",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"variants-{index}-{key}"] = value
    return data


TWO_VARIANTS = [
    {
        "option1_name": "Colour",
        "option1_value": "Sand",
        "option2_name": "Size",
        "option2_value": "M",
        "seller_sku": "DRESS-SAND-M",
        "price": "89.50",
        "compare_at_price": "110",
        "stock_on_hand": "4",
        "weight_grams": "350",
    },
    {
        "option1_name": "Colour",
        "option1_value": "Olive",
        "option2_name": "Size",
        "option2_value": "M",
        "seller_sku": "DRESS-OLIVE-M",
        "price": "89.50",
        "stock_on_hand": "0",
    },
    {},  # a blank extra row is ignored
]


def product_data(category, **overrides):
    return {
        "title": "Washed Linen Wrap Dress",
        "description": "Cut and sewn in **Portland**.",
        "category": str(category.pk),
        "brand_name": "",
        "attributes_text": "Material: Linen\nFit: Relaxed",
        **variant_data(TWO_VARIANTS),
        **overrides,
    }


def test_creating_a_product_with_two_variants_and_an_image_and_submitting_it(
    listing_owner_client, listing_seller
):
    category = CategoryFactory()

    response = listing_owner_client.post(
        reverse("seller_products:create"),
        {**product_data(category), "images": [image_upload()], "intent": "submit"},
    )

    product = Product.objects.get(seller=listing_seller)
    assert response.status_code == 302
    assert response["Location"] == reverse("seller_products:detail", args=[product.pk])
    assert product.status == ProductStatus.LIVE
    assert product.attributes == {"Material": "Linen", "Fit": "Relaxed"}
    skus = {sku.seller_sku: sku for sku in product.skus.all()}
    assert skus["DRESS-SAND-M"].option_values == {"Colour": "Sand", "Size": "M"}
    assert (skus["DRESS-SAND-M"].price_minor, skus["DRESS-SAND-M"].compare_at_price_minor) == (
        8950,
        11000,
    )
    assert product.images.count() == 1
    page = listing_owner_client.get(response["Location"]).content.decode()
    assert "passed the policy check" in page


def test_saving_a_draft_does_not_submit_it(listing_owner_client, listing_seller):
    listing_owner_client.post(
        reverse("seller_products:create"), {**product_data(CategoryFactory()), "intent": "save"}
    )

    product = Product.objects.get(seller=listing_seller)
    assert product.status == ProductStatus.DRAFT
    assert not product.decisions.exists()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"title": ""}, "This field is required."),
        ({"variants-0-price": "12.5.0"}, "Enter an amount such as 12.50."),
        ({"variants-0-price": "-3"}, "The amount cannot be negative."),
        ({"variants-0-stock_on_hand": "-1"}, "greater than or equal to 0"),
        ({"variants-1-seller_sku": "DRESS-SAND-M"}, "SKU codes must be different"),
        ({"variants-0-option1_value": ""}, "Give a value for Colour."),
        ({"variants-0-compare_at_price": "10"}, "compare-at price must be above the price"),
        ({"attributes_text": "Material Linen"}, "needs the form"),
        ({"images": [image_upload("fake.jpg", image_format="PNG")]}, "not a real JPEG"),
    ],
)
def test_invalid_input_is_shown_next_to_the_field_and_nothing_is_saved(
    listing_owner_client, overrides, error
):
    response = listing_owner_client.post(
        reverse("seller_products:create"), product_data(CategoryFactory(), **overrides)
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Product.objects.exists()


def test_at_least_one_variant_is_required(listing_owner_client):
    data = {
        key: value
        for key, value in product_data(CategoryFactory()).items()
        if not key.startswith("variants-")
    }
    data.update(variant_data([{}, {}]))

    response = listing_owner_client.post(reverse("seller_products:create"), data)

    assert "Add at least one variant" in response.content.decode()
    assert not Product.objects.exists()


def test_the_category_list_marks_restricted_and_prohibited_categories(listing_owner_client):
    CategoryFactory(name="Cosmetics", policy_status="restricted")
    CategoryFactory(name="Weapons", policy_status="prohibited")

    page = listing_owner_client.get(reverse("seller_products:create")).content.decode()

    assert "Cosmetics (restricted: needs an approved qualification)" in page
    assert "Weapons (prohibited: listings are refused)" in page


def test_a_seller_not_ready_to_list_keeps_the_draft_and_is_told_what_is_missing(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_products:create"),
        {**product_data(CategoryFactory()), "intent": "submit"},
        follow=True,
    )

    product = Product.objects.get(seller=seller)
    assert product.status == ProductStatus.DRAFT
    assert "Ship-from address added" in response.content.decode()


# --- Edit ------------------------------------------------------------------------------------


def edit_data(product, **overrides):
    skus = list(product.skus.filter(is_active=True).order_by("position"))
    rows = [
        {
            "option1_name": "Size",
            "option1_value": sku.option_values["Size"],
            "seller_sku": sku.seller_sku,
            "price": str(sku.price_minor / 100),
            "stock_on_hand": str(sku.stock_on_hand),
        }
        for sku in skus
    ]
    return {
        "title": product.title,
        "description": product.description,
        "category": str(product.category_id),
        "brand_name": "",
        "attributes_text": "",
        **variant_data(rows, initial=len(rows)),
        **overrides,
    }


def test_editing_a_draft_saves_in_place_and_can_remove_a_variant(
    listing_owner_client, listing_seller
):
    product = draft_product(seller=listing_seller)

    response = listing_owner_client.post(
        reverse("seller_products:edit", args=[product.pk]),
        edit_data(product, title="Linen overshirt", **{"variants-1-DELETE": "on"}),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.title == "Linen overshirt"
    assert list(product.skus.filter(is_active=True).values_list("seller_sku", flat=True)) == [
        "SHIRT-S"
    ]


def test_editing_a_live_product_explains_review_and_keeps_the_live_version(
    listing_owner_client, listing_seller
):
    KeywordRuleFactory(phrase="limited edition", action=KeywordRule.Action.REVIEW, reason="Check.")
    product = reviewed_live_product(seller=listing_seller)
    url = reverse("seller_products:edit", args=[product.pk])
    page = listing_owner_client.get(url).content.decode()
    assert "stays on sale" in page
    assert "variants-TOTAL_FORMS" not in page  # variants of a product on sale are not replaced

    response = listing_owner_client.post(
        url,
        {
            "title": "Limited edition linen shirt",
            "description": "",
            "category": str(product.category_id),
            "brand_name": "",
            "attributes_text": "",
        },
        follow=True,
    )

    product.refresh_from_db()
    assert product.title == "Washed linen shirt" and product.status == ProductStatus.LIVE
    assert ProductRevision.objects.get(product=product).status == "pending_review"
    content = response.content.decode()
    assert "An edit is waiting for review" in content
    assert "Limited edition linen shirt" in content
    # The edit form continues from the pending edit and says so.
    edit_page = listing_owner_client.get(url).content.decode()
    assert "An edit is waiting for review" in edit_page
    assert 'value="Limited edition linen shirt"' in edit_page


# --- Product page and actions ------------------------------------------------------------------


def test_a_rejected_product_shows_its_reasons_suggestions_and_a_link_to_fix(
    listing_owner_client, listing_seller
):
    product = draft_product(
        seller=listing_seller,
        category=CategoryFactory(name="Cosmetics", policy_status="restricted"),
    )
    listing_owner_client.post(reverse("seller_products:action", args=[product.pk, "submit"]))

    page = listing_owner_client.get(
        reverse("seller_products:detail", args=[product.pk])
    ).content.decode()

    assert "This product was not approved" in page
    assert "Cosmetics is a restricted category." in page
    assert "Upload a qualification for Cosmetics" in page
    assert reverse("seller_center:qualifications") in page
    assert reverse("seller_products:edit", args=[product.pk]) in page


def test_the_product_page_offers_only_the_legal_actions(listing_owner_client, listing_seller):
    product = reviewed_live_product(seller=listing_seller)

    response = listing_owner_client.get(reverse("seller_products:detail", args=[product.pk]))

    offered = {name for name, _label in response.context["actions"]}
    assert offered == {"deactivate", "delete", "duplicate"}
    page = response.content.decode()
    assert reverse("seller_products:action", args=[product.pk, "deactivate"]) in page
    assert reverse("seller_products:action", args=[product.pk, "submit"]) not in page


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (ProductStatus.LIVE, "deactivate", ProductStatus.SELLER_DEACTIVATED),
        (ProductStatus.SELLER_DEACTIVATED, "reactivate", ProductStatus.LIVE),
        (ProductStatus.LIVE, "delete", ProductStatus.DELETED),
        (ProductStatus.DELETED, "restore", ProductStatus.DRAFT),
        (ProductStatus.DRAFT, "submit", ProductStatus.LIVE),
    ],
)
def test_each_action_button_calls_its_service_and_confirms(
    listing_owner_client, listing_seller, start, action, end
):
    product = draft_product(seller=listing_seller)
    Product.objects.filter(pk=product.pk).update(status=start)

    response = listing_owner_client.post(
        reverse("seller_products:action", args=[product.pk, action]), follow=True
    )

    product.refresh_from_db()
    assert product.status == end
    assert response.context["messages"]


def test_an_illegal_action_changes_nothing_and_says_why(listing_owner_client, listing_seller):
    product = draft_product(seller=listing_seller)

    response = listing_owner_client.post(
        reverse("seller_products:action", args=[product.pk, "deactivate"]), follow=True
    )

    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT
    assert "cannot become deactivated by you" in response.content.decode()


def test_duplicating_opens_the_copy_for_editing(listing_owner_client, listing_seller):
    product = reviewed_live_product(seller=listing_seller)

    response = listing_owner_client.post(
        reverse("seller_products:action", args=[product.pk, "duplicate"])
    )

    copy = Product.objects.exclude(pk=product.pk).get(seller=listing_seller)
    assert response["Location"] == reverse("seller_products:edit", args=[copy.pk])
    assert copy.status == ProductStatus.DRAFT


def test_a_product_deleted_after_a_takedown_cannot_be_duplicated(
    listing_owner_client, listing_seller
):
    product = taken_down_product(listing_seller)
    listing.product_delete(product=product, actor=listing_seller.owner)

    response = listing_owner_client.post(
        reverse("seller_products:action", args=[product.pk, "duplicate"]), follow=True
    )

    assert response.status_code == 200
    assert "cannot be copied" in " ".join(str(m) for m in response.context["messages"])
    assert Product.objects.filter(seller=listing_seller).count() == 1


def test_images_are_uploaded_moved_and_removed_from_the_product_page(
    listing_owner_client, listing_seller
):
    product = draft_product(seller=listing_seller)
    add_url = reverse("seller_products:image_add", args=[product.pk])

    listing_owner_client.post(
        add_url, {"images": [image_upload("a.jpg"), image_upload("b.png", image_format="PNG")]}
    )
    first, second = product.images.all()
    listing_owner_client.post(
        reverse("seller_products:image_move", args=[product.pk, second.pk]),
        {"direction": "earlier"},
    )
    assert list(product.images.values_list("pk", flat=True)) == [second.pk, first.pk]
    listing_owner_client.post(reverse("seller_products:image_remove", args=[product.pk, second.pk]))

    assert list(product.images.values_list("pk", flat=True)) == [first.pk]
    page = listing_owner_client.get(
        reverse("seller_products:detail", args=[product.pk])
    ).content.decode()
    assert first.thumbnail.url in page


def test_an_invalid_image_upload_is_refused_with_a_message(listing_owner_client, listing_seller):
    product = draft_product(seller=listing_seller)

    response = listing_owner_client.post(
        reverse("seller_products:image_add", args=[product.pk]),
        {"images": [image_upload("fake.jpg", image_format="PNG")]},
        follow=True,
    )

    assert "not a real JPEG" in response.content.decode()
    assert not ProductImage.objects.exists()


# --- Inline price and stock (htmx) ---------------------------------------------------------------


def test_the_htmx_inline_edit_answers_the_updated_row(listing_owner_client, listing_seller):
    product = reviewed_live_product(seller=listing_seller)
    sku = product.skus.get(seller_sku="SHIRT-S")

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "19.99", "stock_on_hand": "7", "next": list_url()},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<tr") and "<html" not in html
    assert f'id="product-row-{product.pk}"' in html
    assert 'value="19.99"' in html and "Saved" in html
    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == (1999, 7)
    product.refresh_from_db()
    assert product.price_min_minor == 1999


def test_the_htmx_inline_edit_shows_errors_in_the_row_and_saves_nothing(
    listing_owner_client, listing_seller
):
    product = reviewed_live_product(seller=listing_seller)
    sku = product.skus.get(seller_sku="SHIRT-S")

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "abc", "stock_on_hand": "-2"},
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Enter an amount such as 12.50." in html
    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == (2500, 5)


def test_the_inline_edit_works_without_javascript(listing_owner_client, listing_seller):
    product = reviewed_live_product(seller=listing_seller)
    sku = product.skus.get(seller_sku="SHIRT-S")
    back_to = list_url(status="live")

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "21", "stock_on_hand": "3", "next": back_to},
    )

    assert response.status_code == 302 and response["Location"] == back_to
    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == (2100, 3)
    page = listing_owner_client.get(back_to).content.decode()
    assert "Price and stock saved" in page


def test_the_inline_edit_never_redirects_off_site(listing_owner_client, listing_seller):
    product = reviewed_live_product(seller=listing_seller)
    sku = product.skus.first()

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "21", "stock_on_hand": "3", "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("seller_products:list")


def test_a_deleted_products_price_and_stock_cannot_be_changed(listing_owner_client, listing_seller):
    product = draft_product(seller=listing_seller)
    sku = product.skus.first()
    listing.product_delete(product=product, actor=listing_seller.owner)

    response = listing_owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "1.00", "stock_on_hand": "1"},
        follow=True,
    )

    assert response.status_code == 200
    assert "restore it first" in " ".join(str(m) for m in response.context["messages"])
    assert SKU.objects.get(pk=sku.pk).price_minor == sku.price_minor


# --- Isolation and access ----------------------------------------------------------------------


def other_sellers_product():
    product = draft_product(seller=ApprovedSellerFactory(), title="Not yours")
    product_image_add(product=product, upload=image_upload(size=(40, 40)))
    return product


def test_another_sellers_product_answers_404_everywhere(listing_owner_client):
    product = other_sellers_product()
    sku = product.skus.first()
    image = product.images.first()
    pages = [
        ("get", reverse("seller_products:detail", args=[product.pk]), {}),
        ("get", reverse("seller_products:edit", args=[product.pk]), {}),
        ("post", reverse("seller_products:edit", args=[product.pk]), {"title": "Mine now"}),
        *(
            ("post", reverse("seller_products:action", args=[product.pk, action]), {})
            for action in ("submit", "deactivate", "reactivate", "delete", "restore", "duplicate")
        ),
        ("post", reverse("seller_products:image_add", args=[product.pk]), {}),
        ("post", reverse("seller_products:image_remove", args=[product.pk, image.pk]), {}),
        (
            "post",
            reverse("seller_products:image_move", args=[product.pk, image.pk]),
            {"direction": "later"},
        ),
        (
            "post",
            reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
            {"price": "1", "stock_on_hand": "1"},
        ),
    ]

    for method, url, data in pages:
        response = getattr(listing_owner_client, method)(url, data)
        assert response.status_code == 404, url

    product.refresh_from_db()
    assert product.title == "Not yours" and product.status == ProductStatus.DRAFT
    assert Product.objects.count() == 1
    assert product.images.count() == 1
    sku.refresh_from_db()
    assert sku.price_minor == 2500


def test_a_variant_of_another_sellers_product_answers_404_under_my_product(
    listing_owner_client, listing_seller
):
    mine = draft_product(seller=listing_seller)
    theirs = other_sellers_product()
    their_sku = theirs.skus.first()
    their_image = theirs.images.first()

    assert (
        listing_owner_client.post(
            reverse("seller_products:sku_update", args=[mine.pk, their_sku.pk]),
            {"price": "1", "stock_on_hand": "1"},
        ).status_code
        == 404
    )
    assert (
        listing_owner_client.post(
            reverse("seller_products:image_remove", args=[mine.pk, their_image.pk])
        ).status_code
        == 404
    )
    assert SKU.objects.get(pk=their_sku.pk).price_minor == 2500
    assert ProductImage.objects.filter(pk=their_image.pk).exists()


def test_a_product_manager_may_open_the_products_and_an_order_manager_may_not(
    client, listing_seller
):
    product = draft_product(seller=listing_seller)
    manager = SellerMemberFactory(seller=listing_seller, role=SellerRole.PRODUCT_MANAGER)
    orders = SellerMemberFactory(seller=listing_seller, role=SellerRole.ORDER_MANAGER)

    client.force_login(manager.user)
    assert client.get(reverse("seller_products:detail", args=[product.pk])).status_code == 200
    client.force_login(orders.user)
    assert client.get(reverse("seller_products:list")).status_code == 404
    assert client.get(reverse("seller_products:detail", args=[product.pk])).status_code == 404


def test_a_shop_that_is_not_approved_cannot_open_the_products(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    assert client.get(reverse("seller_products:list")).status_code == 404
    assert client.get(reverse("seller_products:create")).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("seller_products:list"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
