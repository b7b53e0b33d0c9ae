"""Regressions found in the catalog review: numbers too large for the database, ids that are not
numbers, copying a product the platform took down, editing a deleted product's prices, the admin
product page's query count, and how private documents are served."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from catalog.models import (
    SKU,
    BulkUpload,
    IPComplaint,
    ListingDecision,
    Product,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services import listing
from catalog.services.images import product_image_add
from catalog.services.ip_complaints import ip_complaint_uphold
from catalog.services.products import MAX_STORED_INTEGER, SkuInput, sku_set_errors
from marketplace.errors import IllegalTransition
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.catalog.listing_factories import draft_product, live_product, ready_seller
from tests.catalog.test_bulk_upload import import_rows, product_row
from tests.catalog.test_ip_complaints import PDF_BYTES, file_complaint
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return ready_seller()


@pytest.fixture
def owner_client(client, seller):
    client.force_login(seller.owner)
    return client


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


# --- Numbers too large for the 32-bit columns -----------------------------------------------------


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
def test_a_number_too_large_to_store_is_refused_next_to_its_field(owner_client, variant, field):
    response = owner_client.post(reverse("seller_products:create"), create_form(**variant))

    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors[field]
    assert not Product.objects.exists()


@pytest.mark.parametrize("price, stock", [("1e15", "3"), ("12", "99999999999")])
def test_the_inline_price_edit_refuses_a_number_too_large_with_a_message(
    owner_client, seller, price, stock
):
    product = draft_product(seller=seller)
    sku = product.skus.first()

    response = owner_client.post(
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


def test_the_price_service_refuses_a_number_too_large(seller):
    product = draft_product(seller=seller)
    sku = product.skus.first()

    with pytest.raises(listing.ListingError):
        listing.sku_update_price_and_stock(
            product=product,
            sku_id=sku.pk,
            price_minor=100,
            stock_on_hand=MAX_STORED_INTEGER + 1,
            actor=seller.owner,
        )


# --- Ids and filters that are not what they claim --------------------------------------------


@pytest.mark.parametrize("category", ["%C2%B2", "abc", "99999999999999999999999", "-1"])
def test_the_product_list_ignores_a_category_filter_that_is_not_a_category(
    owner_client, seller, category
):
    draft_product(seller=seller, title="Linen shirt")

    response = owner_client.get(reverse("seller_products:list") + f"?category={category}")

    assert response.status_code == 200
    assert response.context["category_id"] is None
    assert [row.title for row in response.context["rows"]] == ["Linen shirt"]


def test_the_product_list_search_with_a_nul_character_answers_400_not_500(owner_client, seller):
    draft_product(seller=seller, title="Linen shirt")

    response = owner_client.get(reverse("seller_products:list") + "?q=lin%00en")

    # PostgreSQL refuses NUL in text; marketplace/request_guards.py stops it before any view.
    assert response.status_code == 400


def test_the_admin_complaint_page_answers_a_non_numeric_id_without_an_error(client):
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get("/admin/catalog/ipcomplaint/%C2%B2/change/")

    # The admin's own answer for an id that does not exist: back to the list with a message.
    assert response.status_code == 302


# --- Takedowns cannot be undone by copying -----------------------------------------------------


def taken_down_product(seller):
    product = live_product(seller=seller, title="Printed tote")
    complaint = file_complaint(product=product)
    ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Their logo.")
    product.refresh_from_db()
    assert product.status == ProductStatus.PLATFORM_DEACTIVATED
    return product


def test_a_product_taken_down_by_the_platform_cannot_be_duplicated(seller):
    product = taken_down_product(seller)

    with pytest.raises(IllegalTransition):
        listing.product_duplicate(product=product, actor=seller.owner)

    assert Product.objects.filter(seller=seller).count() == 1
    assert "duplicate" not in listing.product_seller_actions(product)


def test_a_product_deleted_after_a_takedown_cannot_be_duplicated(owner_client, seller):
    product = taken_down_product(seller)
    listing.product_delete(product=product, actor=seller.owner)

    response = owner_client.post(
        reverse("seller_products:action", args=[product.pk, "duplicate"]), follow=True
    )

    assert response.status_code == 200
    assert "cannot be copied" in " ".join(str(m) for m in response.context["messages"])
    assert Product.objects.filter(seller=seller).count() == 1


def test_a_product_the_seller_deleted_can_still_be_duplicated(seller):
    product = draft_product(seller=seller)
    listing.product_delete(product=product, actor=seller.owner)

    copy = listing.product_duplicate(product=product, actor=seller.owner)

    assert copy.status == ProductStatus.DRAFT


# --- Deleted products ---------------------------------------------------------------------------


def test_a_deleted_products_price_and_stock_cannot_be_changed(owner_client, seller):
    product = draft_product(seller=seller)
    sku = product.skus.first()
    listing.product_delete(product=product, actor=seller.owner)

    response = owner_client.post(
        reverse("seller_products:sku_update", args=[product.pk, sku.pk]),
        {"price": "1.00", "stock_on_hand": "1"},
        follow=True,
    )

    assert response.status_code == 200
    assert "restore it first" in " ".join(str(m) for m in response.context["messages"])
    assert SKU.objects.get(pk=sku.pk).price_minor == sku.price_minor


# --- Admin query counts -------------------------------------------------------------------------


def test_the_admin_product_page_costs_the_same_queries_however_long_its_history(client, seller):
    client.force_login(StaffUserFactory(is_superuser=True))

    def queries_for(variant_count: int) -> int:
        product = draft_product(
            seller=seller,
            skus=[SkuInput(f"S{n}", 100 + n, 1, {"Size": str(n)}) for n in range(variant_count)],
        )
        for _ in range(variant_count):
            ProductStatusEvent.objects.create(
                product=product, from_status="draft", to_status="draft", actor=UserFactory()
            )
            ListingDecision.objects.create(
                product=product, outcome="approved", decided_by=UserFactory()
            )
        url = reverse("admin:catalog_product_change", args=[product.pk])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    queries_for(1)  # warms the caches the first admin request fills (content types)
    assert queries_for(6) == queries_for(1)


# --- Private documents --------------------------------------------------------------------------


def test_staff_download_a_proof_sandboxed_under_a_clean_name(client):
    complaint = file_complaint(
        proof_upload=SimpleUploadedFile(
            "cert\u202efdp.png\u200b.pdf", PDF_BYTES, content_type="application/pdf"
        )
    )
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get(reverse("admin:catalog_ipcomplaint_proof", args=[complaint.pk]))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert IPComplaint.objects.get(pk=complaint.pk).proof_name == "certfdp.png.pdf"


# --- Images ---------------------------------------------------------------------------------------


def mpo_upload() -> SimpleUploadedFile:
    """A phone-camera JPEG with a second frame (MPO), which Pillow reports as "MPO"."""
    first, second = Image.new("RGB", (120, 80), "red"), Image.new("RGB", (120, 80), "blue")
    buffer = io.BytesIO()
    first.save(buffer, format="MPO", save_all=True, append_images=[second])
    return SimpleUploadedFile("phone.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_a_phone_photo_saved_as_mpo_is_accepted_as_a_jpeg(seller):
    product = draft_product(seller=seller)

    image = product_image_add(product=product, upload=mpo_upload())

    assert (image.width, image.height) == (120, 80)
    with Image.open(image.image.path) as stored:
        assert stored.format == "JPEG"


# --- Admin review: permissions and taken-down products -------------------------------------------


def pending_product():
    product = draft_product(brand_name="Acme")
    listing.product_submit_for_review(product=product, actor=product.seller.owner)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    return product


def view_only_staff():
    user = StaffUserFactory(is_superuser=False)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog", codename__in=["view_product", "view_productrevision"]
        )
    )
    return user


def test_view_only_staff_are_offered_no_review_actions_and_cannot_decide(client):
    product = pending_product()
    client.force_login(view_only_staff())

    changelist = client.get(reverse("admin:catalog_product_changelist"))
    approve = client.post(
        reverse("admin:catalog_product_review", args=["approve"]) + f"?ids={product.pk}",
        {"ids": str(product.pk)},
    )
    action = client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "approve_selected", "_selected_action": [product.pk]},
    )

    assert changelist.status_code == 200
    assert "approve_selected" not in changelist.content.decode()
    assert approve.status_code == 403
    assert action.status_code in (200, 302)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert not ListingDecision.objects.filter(product=product, decided_by__isnull=False).exists()


def test_an_edit_of_a_product_taken_down_meanwhile_cannot_be_approved(seller):
    product = live_product(seller=seller, title="Printed tote")
    result = listing.product_update(
        product=product,
        actor=seller.owner,
        title="Acme printed tote",
        description="Now by Acme.",
        category=product.category,
        brand_name="Acme",
    )
    assert result.revision.status == "pending_review"
    complaint = file_complaint(product=product)
    ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Their logo.")

    with pytest.raises(IllegalTransition):
        listing.revision_approve(revision_id=result.revision.pk, actor=StaffUserFactory())

    product.refresh_from_db()
    result.revision.refresh_from_db()
    assert product.title == "Printed tote"
    assert result.revision.status == "pending_review"


# --- Bulk upload lists --------------------------------------------------------------------------


def finished_upload(seller, rejected: int) -> BulkUpload:
    return BulkUpload.objects.create(
        seller=seller,
        file="bulk_uploads/x.csv",
        original_name="products.csv",
        status=BulkUpload.Status.DONE,
        total_rows=rejected + 1,
        rejected_rows=[
            {"row": n + 2, "handle": "h", "sku": "s", "errors": ["Bad"]} for n in range(rejected)
        ],
    )


def test_the_bulk_upload_list_counts_rejected_rows_without_loading_them(owner_client, seller):
    finished_upload(seller, rejected=3)
    finished_upload(seller, rejected=0)

    with CaptureQueriesContext(connection) as captured:
        response = owner_client.get(reverse("seller_bulk:list"))

    assert response.status_code == 200
    assert [upload.rejected_count for upload in response.context["page_obj"]] == [0, 3]
    listing_query = next(
        q["sql"] for q in captured if "catalog_bulkupload" in q["sql"] and "LIMIT" in q["sql"]
    )
    selected_columns = listing_query.split(" FROM ")[0]
    assert "ARRAY_LENGTH" in selected_columns.upper()
    assert '"rejected_rows",' not in selected_columns
    assert not selected_columns.endswith('"rejected_rows"')


def test_the_bulk_upload_list_costs_the_same_queries_for_one_or_many_uploads(owner_client, seller):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert owner_client.get(reverse("seller_bulk:list")).status_code == 200
        return len(captured)

    finished_upload(seller, rejected=2)
    one = queries()
    for _ in range(5):
        finished_upload(seller, rejected=2)

    assert queries() == one


def test_the_admin_bulk_upload_list_shows_rejected_counts(client, seller):
    finished_upload(seller, rejected=4)
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get(reverse("admin:catalog_bulkupload_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_list[0].rejected_count == 4


@pytest.mark.parametrize("ids", ["99999999999999999999999", "-1", "x", "1,,2"])
def test_the_review_page_answers_ids_no_product_can_have_with_a_message(client, ids):
    client.force_login(StaffUserFactory())

    response = client.get(
        reverse("admin:catalog_product_review", args=["approve"]) + f"?ids={ids}", follow=True
    )

    assert response.status_code == 200
    assert "Select at least one item" in " ".join(str(m) for m in response.context["messages"])


# --- Bulk upload rows ---------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["stock", "weight_grams"])
def test_a_superscript_digit_in_a_count_rejects_its_row_and_the_import_goes_on(
    django_capture_on_commit_callbacks, column
):
    seller = ApprovedSellerFactory()
    CategoryFactory(name="Kitchen", slug="kitchen")
    rows = [
        product_row(handle="good", sku="G-1"),
        product_row(handle="odd", sku="O-1", **{column: "²"}),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert bulk_upload.status == BulkUpload.Status.DONE
    assert bulk_upload.created_count == 1
    [entry] = bulk_upload.rejected_rows
    assert entry["row"] == 3
    assert "is not a whole number" in " ".join(entry["errors"])


@pytest.mark.parametrize("price", ["1e999999", "1e99999", "9" * 19])
def test_a_price_in_exponent_notation_is_refused_at_once(owner_client, price):
    response = owner_client.post(reverse("seller_products:create"), create_form(price=price))

    assert response.status_code == 200
    assert "too large" in " ".join(response.context["formset"].forms[0].errors["price"])
    assert not Product.objects.exists()


def test_a_bulk_row_with_a_price_in_exponent_notation_is_rejected(
    django_capture_on_commit_callbacks,
):
    seller = ApprovedSellerFactory()
    CategoryFactory(name="Kitchen", slug="kitchen")

    bulk_upload = import_rows(
        seller, [product_row(price="1e999999")], django_capture_on_commit_callbacks
    )

    assert bulk_upload.status == BulkUpload.Status.DONE
    [entry] = bulk_upload.rejected_rows
    assert entry["errors"] == ["Price: the amount is too large."]
