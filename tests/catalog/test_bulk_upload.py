"""Bulk CSV upload: the file check, the row-by-row import job, its progress and its safety."""

import csv
import io

import pytest

from catalog import tasks
from catalog.models import SKU, BulkUpload, Product, ProductStatus
from catalog.services import bulk_upload as bulk_upload_services
from catalog.services.bulk_upload import (
    COLUMNS,
    InvalidBulkFile,
    bulk_file_check,
    bulk_rejected_rows_csv,
    bulk_template_csv,
    bulk_upload_create,
    bulk_upload_process,
)
from policies.models import PolicyStatus
from tests.catalog.factories import (
    ProductFactory,
    SKUFactory,
    csv_text,
    csv_upload,
    import_rows,
    private_files,
    product_row,
)
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory

pytestmark = pytest.mark.django_db


# --- The template --------------------------------------------------------------------------


def test_the_template_has_the_header_and_two_example_rows(kitchen):
    text = bulk_template_csv()

    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 3
    assert {row[COLUMNS.index("category")] for row in rows[1:]} == {"kitchen"}


def test_the_template_suggests_a_category_that_needs_no_qualification():
    CategoryFactory(name="A weapons", slug="weapons", policy_status=PolicyStatus.PROHIBITED)
    CategoryFactory(name="B medicine", slug="medicine", policy_status=PolicyStatus.RESTRICTED)
    CategoryFactory(name="C garden", slug="garden")

    rows = list(csv.reader(io.StringIO(bulk_template_csv().lstrip("\ufeff"))))

    assert rows[1][COLUMNS.index("category")] == "garden"


def test_the_template_uploaded_as_is_creates_its_two_example_products(
    seller, kitchen, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bulk_upload = bulk_upload_create(
            seller=seller, upload=csv_upload(bulk_template_csv()), actor=seller.owner
        )
    bulk_upload.refresh_from_db()

    assert bulk_upload.status == BulkUpload.Status.DONE
    assert (bulk_upload.total_rows, bulk_upload.processed_rows, bulk_upload.created_count) == (
        2,
        2,
        2,
    )
    assert bulk_upload.rejected_rows == []
    products = Product.objects.filter(seller=seller).order_by("title")
    assert [product.title for product in products] == ["Stoneware mug", "Washed linen shirt"]
    assert {product.status for product in products} == {ProductStatus.DRAFT}
    shirt = products.get(title="Washed linen shirt")
    assert shirt.skus.get().option_values == {"Size": "M", "Colour": "Sand"}
    assert (shirt.price_min_minor, shirt.skus.get().compare_at_price_minor) == (2500, 3200)
    assert [message.to for message in mailoutbox] == [[seller.owner.email]]
    assert "2 created" in mailoutbox[0].subject


# --- Checking the file as a whole ------------------------------------------------------------


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            csv_upload(csv_text([product_row()], header=(*COLUMNS[:-1], "weight"))),
            "does not match the template",
            id="wrong-header",
        ),
        pytest.param(
            csv_upload(csv_text([product_row()], header=COLUMNS[:-1])),
            "missing weight_grams",
            id="missing-column",
        ),
        pytest.param(
            csv_upload(csv_text([product_row()]), name="products.xlsx"),
            "Upload a CSV file",
            id="not-csv-name",
        ),
        pytest.param(
            csv_upload(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe", name="p.csv"),
            "not UTF-8",
            id="binary-renamed-csv",
        ),
        pytest.param(
            csv_upload(csv_text([product_row(title="Café mug")]).encode("latin-1")),
            "not UTF-8",
            id="latin-1",
        ),
        pytest.param(csv_upload(b""), "empty", id="empty"),
        pytest.param(csv_upload(csv_text([])), "no product rows", id="header-only"),
        pytest.param(
            csv_upload(b"x" * (5 * 1024 * 1024 + 1)),
            "the limit is 5 MB",
            id="too-large",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_and_nothing_is_stored(
    seller, upload, message, settings
):
    with pytest.raises(InvalidBulkFile) as error:
        bulk_upload_create(seller=seller, upload=upload, actor=seller.owner)

    assert message in error.value.message
    assert not BulkUpload.objects.exists()
    assert private_files(settings) == []


def test_a_file_with_a_byte_order_mark_is_read(seller, kitchen):
    checked = bulk_file_check(csv_upload("\ufeff" + csv_text([product_row()])))

    assert checked.row_count == 1
    assert checked.rows[0].values["handle"] == "mug"
    assert checked.rows[0].number == 2


def test_blank_lines_are_skipped_but_row_numbers_stay_those_of_the_spreadsheet():
    text = csv_text([product_row(sku="A"), {}, product_row(sku="B")]) + ",,,\r\n"

    checked = bulk_file_check(csv_upload(text))

    assert [(row.number, row.values["sku"]) for row in checked.rows] == [(2, "A"), (4, "B")]


def test_the_header_may_list_the_columns_in_another_order(seller, kitchen):
    header = tuple(reversed(COLUMNS))

    checked = bulk_file_check(csv_upload(csv_text([product_row()], header=header)))

    assert checked.rows[0].values["sku"] == "MUG-1"


def test_a_file_over_the_row_limit_is_refused(seller, kitchen, monkeypatch, settings):
    monkeypatch.setattr(bulk_upload_services, "MAX_ROWS", 3)
    rows = [product_row(handle=f"mug-{n}", sku=f"MUG-{n}") for n in range(4)]

    with pytest.raises(InvalidBulkFile) as error:
        bulk_upload_create(seller=seller, upload=csv_upload(csv_text(rows)), actor=seller.owner)

    assert "more than 3 product rows" in error.value.message
    assert not BulkUpload.objects.exists()
    assert private_files(settings) == []
    # At the limit is fine.
    assert bulk_file_check(csv_upload(csv_text(rows[:3]))).row_count == 3


def test_a_shop_that_is_not_open_cannot_upload(kitchen):
    seller = SellerFactory()

    with pytest.raises(Exception, match="once your shop is approved"):
        bulk_upload_create(
            seller=seller, upload=csv_upload(csv_text([product_row()])), actor=seller.owner
        )

    assert not BulkUpload.objects.exists()


def test_the_file_is_stored_privately_under_a_server_generated_name(seller, kitchen, settings):
    upload = csv_upload(csv_text([product_row()]), name="../../my products.csv")

    bulk_upload = bulk_upload_create(seller=seller, upload=upload, actor=seller.owner)

    assert bulk_upload.status == BulkUpload.Status.QUEUED
    assert bulk_upload.original_name == "my products.csv"
    assert bulk_upload.file.name.startswith(f"bulk_uploads/{seller.pk}/")
    assert "my products" not in bulk_upload.file.name
    assert [path.name for path in private_files(settings)] == [bulk_upload.file.name.split("/")[-1]]


# --- Row by row ------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_their_row_numbers_while_good_rows_become_products(
    seller, kitchen, django_capture_on_commit_callbacks
):
    rows = [
        product_row(handle="good-1", sku="G-1"),
        product_row(handle="bad-price", sku="B-1", price="12,5x"),
        product_row(handle="bad-stock", sku="B-2", stock="-3"),
        product_row(handle="good-2", sku="G-2", title="Teapot"),
        product_row(handle="bad-many", sku="", title="", compare_at_price="1.00"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert bulk_upload.status == BulkUpload.Status.DONE
    assert bulk_upload.created_count == 2
    assert sorted(Product.objects.values_list("title", flat=True)) == ["Stoneware mug", "Teapot"]
    rejected = {entry["row"]: entry for entry in bulk_upload.rejected_rows}
    assert sorted(rejected) == [3, 4, 6]
    assert rejected[3]["errors"] == ["Price: Enter an amount such as 12.50."]
    assert rejected[3]["sku"] == "B-1"
    assert rejected[4]["errors"] == ["Stock: '-3' is not a whole number of 0 or more."]
    assert any(error.startswith("Title:") for error in rejected[6]["errors"])
    assert any(error.startswith("SKU:") for error in rejected[6]["errors"])
    assert any(error.startswith("Compare-at price:") for error in rejected[6]["errors"])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"price": "0"}, "Price: the price must be above zero."),
        ({"price": "1.999"}, "Price: USD amounts have at most 2 decimals."),
        ({"price": ""}, "Price: enter an amount such as 12.50."),
        ({"stock": "1.5"}, "Stock: '1.5' is not a whole number of 0 or more."),
        ({"stock": ""}, "Stock: enter a whole number, 0 or more."),
        ({"weight_grams": "heavy"}, "Weight (grams): 'heavy' is not a whole number of 0 or more."),
        ({"compare_at_price": "12.50"}, "Compare-at price: it must be higher than the price"),
        ({"handle": ""}, "Handle: give every row a handle"),
        ({"category": ""}, "Category: enter the category's slug"),
        ({"category": "nope"}, "Category: there is no category 'nope'"),
        ({"option1_value": "Blue"}, "Option 1: give option1_name for the value 'Blue'."),
        ({"option1_name": "Colour"}, "Option 1: give a value for Colour."),
        ({"option2_name": "Size", "option2_value": "M"}, "Option 2: fill option 1 first."),
    ],
)
def test_each_rule_rejects_its_row_with_a_reason(
    seller, kitchen, django_capture_on_commit_callbacks, overrides, expected
):
    bulk_upload = import_rows(
        seller, [product_row(**overrides)], django_capture_on_commit_callbacks
    )

    assert bulk_upload.created_count == 0
    [entry] = bulk_upload.rejected_rows
    assert entry["row"] == 2
    assert any(error.startswith(expected) for error in entry["errors"]), entry["errors"]
    assert not Product.objects.exists()


def test_rows_with_the_same_handle_become_one_product_with_variants(
    seller, kitchen, django_capture_on_commit_callbacks
):
    rows = [
        product_row(handle="tee", title="Tee", option1_name="Size", option1_value="S", sku="T-S"),
        product_row(
            handle="tee", title="", option1_name="", option1_value="M", sku="T-M", price="14"
        ),
        product_row(handle="TEE", title="Tee", option1_name="size", option1_value="L", sku="T-L"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert bulk_upload.rejected_rows == []
    product = Product.objects.get()
    assert list(product.skus.values_list("seller_sku", "option_values")) == [
        ("T-S", {"Size": "S"}),
        ("T-M", {"Size": "M"}),
        ("T-L", {"Size": "L"}),
    ]
    assert (product.price_min_minor, product.price_max_minor) == (1250, 1400)


def test_inconsistent_options_reject_the_whole_product_and_say_which_row(
    seller, kitchen, django_capture_on_commit_callbacks
):
    rows = [
        product_row(handle="tee", option1_name="Size", option1_value="S", sku="T-S"),
        product_row(handle="other", sku="OTHER"),
        product_row(handle="tee", option1_name="Colour", option1_value="Red", sku="T-R"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert list(Product.objects.values_list("skus__seller_sku", flat=True)) == ["OTHER"]
    rejected = {entry["row"]: entry["errors"] for entry in bulk_upload.rejected_rows}
    assert rejected[2] == ["Not imported: this product's row 4 has errors."]
    assert rejected[4][0].startswith("Option 1: the product's option1_name is 'Size'")


def test_two_variants_with_the_same_options_are_rejected(
    seller, kitchen, django_capture_on_commit_callbacks
):
    rows = [product_row(handle="mug", sku="M-1"), product_row(handle="mug", sku="M-2")]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert not Product.objects.exists()
    rejected = {entry["row"]: entry["errors"] for entry in bulk_upload.rejected_rows}
    assert rejected[3][0].startswith("Options: the same options as row 2.")


def test_a_later_row_may_not_contradict_the_products_first_row(
    seller, kitchen, django_capture_on_commit_callbacks
):
    CategoryFactory(slug="garden")
    rows = [
        product_row(handle="tee", option1_name="Size", option1_value="S", sku="T-S"),
        product_row(handle="tee", option1_value="M", sku="T-M", category="garden"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert not Product.objects.exists()
    rejected = {entry["row"]: entry["errors"] for entry in bulk_upload.rejected_rows}
    assert rejected[3][0].startswith("Category: differs from row 2")


def test_duplicate_sku_codes_in_the_file_are_rejected_after_their_first_use(
    seller, kitchen, django_capture_on_commit_callbacks
):
    rows = [
        product_row(handle="a", sku="SAME"),
        product_row(handle="b", sku="SAME", title="Bowl"),
        product_row(handle="c", sku="OTHER", title="Plate"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    assert sorted(Product.objects.values_list("title", flat=True)) == ["Plate", "Stoneware mug"]
    [entry] = bulk_upload.rejected_rows
    assert entry["row"] == 3
    assert entry["errors"] == ["SKU: SAME is also used on row 2; every SKU code must be different."]


def test_sku_codes_already_used_by_the_sellers_products_are_rejected(
    seller, kitchen, django_capture_on_commit_callbacks
):
    SKUFactory(product=ProductFactory(seller=seller, category=kitchen), seller_sku="TAKEN")
    SKUFactory(seller_sku="FREE")  # another shop's code is no concern of this seller's

    bulk_upload = import_rows(
        seller,
        [product_row(handle="a", sku="TAKEN"), product_row(handle="b", sku="FREE")],
        django_capture_on_commit_callbacks,
    )

    assert bulk_upload.created_count == 1
    assert SKU.objects.filter(product__seller=seller, seller_sku="FREE").exists()
    assert bulk_upload.rejected_rows[0]["errors"] == [
        "SKU: TAKEN is already used by one of your products."
    ]


def test_a_row_in_a_prohibited_category_is_rejected_with_the_policy_reason(
    seller, kitchen, django_capture_on_commit_callbacks
):
    weapons = CategoryFactory(
        slug="weapons",
        policy_status=PolicyStatus.PROHIBITED,
        policy_reason="Weapons may not be sold.",
    )
    CategoryFactory(slug="knives", parent=weapons)
    CategoryFactory(slug="medicine", policy_status=PolicyStatus.RESTRICTED)
    rows = [
        product_row(handle="a", sku="A", category="weapons"),
        product_row(handle="b", sku="B", category="knives"),
        product_row(handle="c", sku="C", category="medicine"),
    ]

    bulk_upload = import_rows(seller, rows, django_capture_on_commit_callbacks)

    rejected = {entry["row"]: entry["errors"] for entry in bulk_upload.rejected_rows}
    assert rejected == {
        2: ["Category: Weapons may not be sold."],
        3: ["Category: Weapons may not be sold."],
    }
    # Restricted categories pass as drafts: the qualification is checked on submission.
    assert list(Product.objects.values_list("category__slug", flat=True)) == ["medicine"]


def test_the_report_lists_rejected_rows_and_defuses_spreadsheet_formulas(
    seller, kitchen, django_capture_on_commit_callbacks
):
    bulk_upload = import_rows(
        seller,
        [product_row(handle="=HYPERLINK(1)", sku="@SUM", price="x")],
        django_capture_on_commit_callbacks,
    )

    rows = list(
        csv.reader(io.StringIO(bulk_rejected_rows_csv(bulk_upload=bulk_upload).lstrip("\ufeff")))
    )

    assert rows[0] == ["row", "handle", "sku", "reasons"]
    assert rows[1][:3] == ["2", "'=HYPERLINK(1)", "'@SUM"]
    assert rows[1][3].startswith("Price:")


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


# --- The job: idempotence, progress, failure -------------------------------------------------


def test_running_the_job_twice_creates_the_products_once(
    seller, kitchen, mailoutbox, django_capture_on_commit_callbacks
):
    bulk_upload = bulk_upload_create(
        seller=seller,
        upload=csv_upload(
            csv_text([product_row(handle="a", sku="A"), product_row(handle="b", sku="B")])
        ),
        actor=seller.owner,
    )

    with django_capture_on_commit_callbacks(execute=True):
        bulk_upload_process(bulk_upload_id=bulk_upload.pk)
        bulk_upload_process(bulk_upload_id=bulk_upload.pk)
        tasks.bulk_upload_process.delay(bulk_upload.pk)

    bulk_upload.refresh_from_db()
    assert bulk_upload.status == BulkUpload.Status.DONE
    assert bulk_upload.created_count == 2
    assert Product.objects.count() == 2
    assert len(mailoutbox) == 1


def test_a_redelivered_job_does_nothing_while_the_upload_is_running(seller, kitchen):
    bulk_upload = bulk_upload_create(
        seller=seller, upload=csv_upload(csv_text([product_row()])), actor=seller.owner
    )
    BulkUpload.objects.filter(pk=bulk_upload.pk).update(status=BulkUpload.Status.RUNNING)

    result = bulk_upload_process(bulk_upload_id=bulk_upload.pk)

    assert result.status == BulkUpload.Status.RUNNING
    assert not Product.objects.exists()


def test_progress_is_written_as_the_job_goes(seller, kitchen, monkeypatch):
    monkeypatch.setattr(bulk_upload_services, "PROGRESS_EVERY_ROWS", 2)
    rows = [product_row(handle=f"mug-{n}", sku=f"MUG-{n}") for n in range(5)]
    bulk_upload = bulk_upload_create(
        seller=seller, upload=csv_upload(csv_text(rows)), actor=seller.owner
    )
    seen = []
    original_create = bulk_upload_services.product_create

    def observing_create(**kwargs):
        seen.append(
            BulkUpload.objects.values_list("status", "processed_rows", "created_count").get(
                pk=bulk_upload.pk
            )
        )
        return original_create(**kwargs)

    monkeypatch.setattr(bulk_upload_services, "product_create", observing_create)

    bulk_upload_process(bulk_upload_id=bulk_upload.pk)

    assert seen == [
        ("running", 0, 0),
        ("running", 0, 0),
        ("running", 2, 2),
        ("running", 2, 2),
        ("running", 4, 4),
    ]
    bulk_upload.refresh_from_db()
    assert (bulk_upload.processed_rows, bulk_upload.total_rows) == (5, 5)
    assert bulk_upload.progress_percent == 100
    assert bulk_upload.finished_at is not None


def test_a_job_stops_when_its_upload_was_finished_by_someone_else(seller, kitchen, monkeypatch):
    monkeypatch.setattr(bulk_upload_services, "PROGRESS_EVERY_ROWS", 1)
    rows = [product_row(handle=f"mug-{n}", sku=f"MUG-{n}") for n in range(3)]
    bulk_upload = bulk_upload_create(
        seller=seller, upload=csv_upload(csv_text(rows)), actor=seller.owner
    )
    original_create = bulk_upload_services.product_create

    def create_then_fail_the_upload(**kwargs):
        product = original_create(**kwargs)
        BulkUpload.objects.filter(pk=bulk_upload.pk).update(
            status=BulkUpload.Status.FAILED, error="Stopped by staff."
        )
        return product

    monkeypatch.setattr(bulk_upload_services, "product_create", create_then_fail_the_upload)

    result = bulk_upload_process(bulk_upload_id=bulk_upload.pk)

    assert result.status == BulkUpload.Status.FAILED
    assert result.error == "Stopped by staff."
    assert Product.objects.count() == 1


def test_an_unreadable_stored_file_fails_the_upload_with_the_reason(
    seller, kitchen, settings, mailoutbox, django_capture_on_commit_callbacks
):
    bulk_upload = bulk_upload_create(
        seller=seller, upload=csv_upload(csv_text([product_row()])), actor=seller.owner
    )
    (settings.PRIVATE_MEDIA_ROOT / bulk_upload.file.name).write_bytes("Café".encode("latin-1"))

    with django_capture_on_commit_callbacks(execute=True):
        bulk_upload_process(bulk_upload_id=bulk_upload.pk)

    bulk_upload.refresh_from_db()
    assert bulk_upload.status == BulkUpload.Status.FAILED
    assert "not UTF-8" in bulk_upload.error
    assert not Product.objects.exists()
    assert "could not be imported" in mailoutbox[0].subject
    assert "not UTF-8" in mailoutbox[0].body


def test_the_task_is_enqueued_on_commit_and_runs_through_celery(
    seller, kitchen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bulk_upload = bulk_upload_create(
            seller=seller, upload=csv_upload(csv_text([product_row()])), actor=seller.owner
        )
    # Nothing runs before the commit: the worker must find the row and the file.
    assert len(callbacks) == 1
    assert BulkUpload.objects.get().status == BulkUpload.Status.QUEUED

    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.bulk_upload_process.delay(bulk_upload.pk)

    assert result.successful()
    bulk_upload.refresh_from_db()
    assert bulk_upload.status == BulkUpload.Status.DONE
    assert Product.objects.get().skus.get().seller_sku == "MUG-1"
