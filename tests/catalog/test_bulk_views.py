"""Seller Center bulk upload pages: template, upload form, progress, report, list (rejected rows
counted without loading them, the same queries however many uploads; the admin list too),
isolation."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import BulkUpload, Product, ProductStatus
from sellers.models import SellerRole
from tests.accounts.factories import StaffUserFactory
from tests.catalog.factories import csv_text, csv_upload, product_row
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def make_upload(seller, **fields) -> BulkUpload:
    values = {"file": "bulk_uploads/x.csv", "original_name": "products.csv", "total_rows": 10}
    values.update(fields)
    return BulkUpload.objects.create(seller=seller, **values)


def test_the_template_downloads_as_a_csv_attachment(owner_client, kitchen):
    response = owner_client.get(reverse("seller_bulk:template"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="products-template.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content.decode("utf-8-sig").startswith("handle,title,description,category")


def test_the_downloaded_template_uploads_back_into_two_draft_products(
    owner_client, seller, kitchen, django_capture_on_commit_callbacks
):
    template = owner_client.get(reverse("seller_bulk:template")).content

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("seller_bulk:upload"),
            {"file": SimpleUploadedFile("template.csv", template, content_type="text/csv")},
        )

    bulk_upload = BulkUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("seller_bulk:detail", args=[bulk_upload.pk])
    assert Product.objects.filter(seller=seller, status=ProductStatus.DRAFT).count() == 2
    page = owner_client.get(response["Location"])
    assert "2 rows queued for import" in page.content.decode()
    assert "Done" in page.content.decode()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (csv_upload(csv_text([product_row()], header=("sku", "price"))), "does not match"),
        (csv_upload(b"\x89PNG\r\n\x1a\n", name="photo.png"), "Upload a CSV file"),
        (csv_upload("handle\n".encode("utf-16")), "not UTF-8"),
    ],
)
def test_a_refused_file_shows_the_reason_next_to_the_field_and_stores_nothing(
    owner_client, kitchen, upload, message
):
    response = owner_client.post(reverse("seller_bulk:upload"), {"file": upload})

    assert response.status_code == 400
    form = response.context["form"]
    assert message in " ".join(form.errors["file"])
    assert 'class="field-errors"' in response.content.decode()
    assert not BulkUpload.objects.exists()


def test_posting_without_a_file_asks_for_one(owner_client):
    response = owner_client.post(reverse("seller_bulk:upload"), {})

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_the_upload_form_explains_the_columns(owner_client):
    response = owner_client.get(reverse("seller_bulk:upload"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<code>weight_grams</code>" in body
    assert 'enctype="multipart/form-data"' in body


def test_a_queued_upload_polls_for_its_progress_with_htmx(owner_client, seller):
    bulk_upload = make_upload(seller, status=BulkUpload.Status.RUNNING, processed_rows=4)
    url = reverse("seller_bulk:detail", args=[bulk_upload.pk])

    page = owner_client.get(url)
    partial = owner_client.get(url, headers={"HX-Request": "true"})

    body = page.content.decode()
    assert f'hx-get="{url}"' in body
    assert 'hx-trigger="every 2s"' in body
    assert '<progress id="bulk-progress-' in body and 'value="4"' in body and 'max="10"' in body
    assert ">Refresh</a>" in body
    assert partial.status_code == 200
    assert partial.content.decode().lstrip().startswith('<div id="bulk-progress"')
    assert "<html" not in partial.content.decode()


def test_a_finished_upload_stops_polling_and_lists_rejected_rows(owner_client, seller):
    bulk_upload = make_upload(
        seller,
        status=BulkUpload.Status.DONE,
        processed_rows=10,
        created_count=9,
        rejected_rows=[{"row": 7, "handle": "mug", "sku": "M-1", "errors": ["Price: bad."]}],
    )

    response = owner_client.get(reverse("seller_bulk:detail", args=[bulk_upload.pk]))

    body = response.content.decode()
    assert "hx-get" not in body
    assert "Price: bad." in body
    assert reverse("seller_bulk:report", args=[bulk_upload.pk]) in body


def test_the_rejected_rows_table_is_paginated(owner_client, seller):
    rows = [
        {"row": n, "handle": "h", "sku": f"S{n}", "errors": [f"Error {n}"]} for n in range(2, 32)
    ]
    bulk_upload = make_upload(seller, status=BulkUpload.Status.DONE, rejected_rows=rows)
    url = reverse("seller_bulk:detail", args=[bulk_upload.pk])

    first = owner_client.get(url).content.decode()
    second = owner_client.get(url, {"page": 2}).content.decode()

    assert "Error 26" in first and "Error 27" not in first
    assert "Error 27" in second


def test_the_report_downloads_the_rejected_rows(owner_client, seller):
    bulk_upload = make_upload(
        seller,
        status=BulkUpload.Status.DONE,
        rejected_rows=[{"row": 3, "handle": "mug", "sku": "M-1", "errors": ["Price: bad."]}],
    )

    response = owner_client.get(reverse("seller_bulk:report", args=[bulk_upload.pk]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert response.content.decode("utf-8-sig").splitlines() == [
        "row,handle,sku,reasons",
        "3,mug,M-1,Price: bad.",
    ]


def test_the_list_shows_past_uploads_paginated(owner_client, seller):
    for number in range(27):
        make_upload(seller, original_name=f"file-{number:02d}.csv")
    make_upload(ApprovedSellerFactory(), original_name="someone-elses.csv")

    first = owner_client.get(reverse("seller_bulk:list"))
    second = owner_client.get(reverse("seller_bulk:list"), {"page": 2})

    assert len(first.context["page_obj"].object_list) == 25
    assert len(second.context["page_obj"].object_list) == 2
    assert "someone-elses.csv" not in first.content.decode() + second.content.decode()


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


def test_the_bulk_upload_list_counts_rejected_rows_without_loading_them(
    listing_owner_client, listing_seller
):
    finished_upload(listing_seller, rejected=3)
    finished_upload(listing_seller, rejected=0)

    with CaptureQueriesContext(connection) as captured:
        response = listing_owner_client.get(reverse("seller_bulk:list"))

    assert response.status_code == 200
    assert [upload.rejected_count for upload in response.context["page_obj"]] == [0, 3]
    listing_query = next(
        q["sql"] for q in captured if "catalog_bulkupload" in q["sql"] and "LIMIT" in q["sql"]
    )
    selected_columns = listing_query.split(" FROM ")[0]
    assert "ARRAY_LENGTH" in selected_columns.upper()
    assert '"rejected_rows",' not in selected_columns
    assert not selected_columns.endswith('"rejected_rows"')


def test_the_bulk_upload_list_costs_the_same_queries_for_one_or_many_uploads(
    listing_owner_client, listing_seller
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert listing_owner_client.get(reverse("seller_bulk:list")).status_code == 200
        return len(captured)

    finished_upload(listing_seller, rejected=2)
    one = queries()
    for _ in range(5):
        finished_upload(listing_seller, rejected=2)

    assert queries() == one


def test_the_admin_bulk_upload_list_shows_rejected_counts(client, listing_seller):
    finished_upload(listing_seller, rejected=4)
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get(reverse("admin:catalog_bulkupload_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_list[0].rejected_count == 4


def test_another_sellers_upload_answers_404(owner_client):
    other = make_upload(ApprovedSellerFactory(), status=BulkUpload.Status.DONE)

    for name in ("seller_bulk:detail", "seller_bulk:report"):
        assert owner_client.get(reverse(name, args=[other.pk])).status_code == 404


def test_a_product_manager_may_upload_but_an_order_manager_may_not(client, seller):
    product_manager = SellerMemberFactory(seller=seller, role=SellerRole.PRODUCT_MANAGER).user
    order_manager = SellerMemberFactory(seller=seller, role=SellerRole.ORDER_MANAGER).user

    client.force_login(product_manager)
    assert client.get(reverse("seller_bulk:upload")).status_code == 200
    client.force_login(order_manager)
    assert client.get(reverse("seller_bulk:upload")).status_code == 404


def test_a_shop_not_yet_approved_cannot_open_bulk_upload(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    assert client.get(reverse("seller_bulk:upload")).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("seller_bulk:list"))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
