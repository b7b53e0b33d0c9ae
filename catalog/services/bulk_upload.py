"""Bulk CSV upload: a seller's spreadsheet of products, checked up front and imported by a Celery
job row by row.

Two steps. `bulk_upload_create` (the web request) checks the file as a whole (a .csv, at most
MAX_FILE_BYTES, UTF-8, the template's header, at most MAX_ROWS rows), stores it privately and
queues the job. `bulk_upload_process` (the job) validates every row, groups rows into products by
their handle, and creates each valid product as a draft in a transaction of its own, so one bad
product never costs the good ones. Rejected rows are kept with their row numbers and reasons for
the report.

Row numbers are spreadsheet rows: the header is row 1, the first product row is row 2.
"""

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from catalog.models import BULK_UPLOAD_MACHINE, MAX_OPTION_LENGTH, SKU, BulkUpload
from catalog.services.products import (
    MAX_STORED_INTEGER,
    MAX_TITLE_LENGTH,
    InvalidProduct,
    SkuInput,
    product_create,
)
from marketplace.errors import DomainError
from marketplace.money import Money, MoneyParseError, MoneyTooLarge
from marketplace.notifications.services import notify
from marketplace.state import transition_many
from marketplace.uploads import private_storage, stored_private_file
from policies.models import Category
from policies.screening import (
    ListingFacts,
    ReasonCode,
    ScreeningRules,
    SellerCredentials,
    screen_listing,
)
from policies.selectors import screening_rules_load
from sellers.models import Seller

logger = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "handle",
    "title",
    "description",
    "category",
    "brand",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "sku",
    "price",
    "compare_at_price",
    "stock",
    "weight_grams",
)
# Columns that describe the product; the other columns describe one variant (one row, one SKU).
PRODUCT_COLUMNS = ("title", "description", "category", "brand")

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000
# How often (in rows) the job writes its progress: often enough for a moving progress bar, rarely
# enough that a large file is not slowed by a write per row.
PROGRESS_EVERY_ROWS = 25

MAX_BRAND_LENGTH = 120
MAX_SKU_LENGTH = SKU._meta.get_field("seller_sku").max_length
# Prices, stock and weights are stored in 32-bit integer columns (one limit, in products.py).
MAX_INTEGER = MAX_STORED_INTEGER


class InvalidBulkFile(DomainError):
    """The file as a whole cannot be imported; nothing was stored. `field` names the form field."""

    code = "invalid_bulk_file"
    field = "file"


@dataclass(frozen=True)
class CsvRow:
    number: int  # the spreadsheet row: the header is row 1
    values: dict[str, str]


@dataclass(frozen=True)
class CheckedCsv:
    rows: tuple[CsvRow, ...]

    @property
    def row_count(self) -> int:
        return len(self.rows)


# --- The template ------------------------------------------------------------------------------


def bulk_template_rows(*, category_slug: str, currency: str) -> list[dict[str, str]]:
    """The template's two example products, in `category_slug`, priced in `currency`."""

    def price(amount_minor: int) -> str:
        return str(Money(amount_minor, currency).decimal)

    return [
        {
            "handle": "linen-shirt",
            "title": "Washed linen shirt",
            "description": "Soft, breathable linen that gets better with every wash.",
            "category": category_slug,
            "brand": "",
            "option1_name": "Size",
            "option1_value": "M",
            "option2_name": "Colour",
            "option2_value": "Sand",
            "sku": "EXAMPLE-SHIRT-M-SAND",
            "price": price(2500),
            "compare_at_price": price(3200),
            "stock": "10",
            "weight_grams": "250",
        },
        {
            "handle": "stoneware-mug",
            "title": "Stoneware mug",
            "description": "A hand-glazed mug that holds 350 ml.",
            "category": category_slug,
            "brand": "",
            "option1_name": "",
            "option1_value": "",
            "option2_name": "",
            "option2_value": "",
            "sku": "EXAMPLE-MUG",
            "price": price(1250),
            "compare_at_price": "",
            "stock": "40",
            "weight_grams": "400",
        },
    ]


def bulk_template_category_slug() -> str:
    """A category sellers may list in without a qualification, for the example rows."""
    rules = screening_rules_load()
    for category in Category.objects.order_by("position", "name", "id").only("id", "slug"):
        if not _category_screening_codes(category.pk, rules):
            return category.slug
    return "your-category-slug"


def bulk_template_csv() -> str:
    """The downloadable template: the header and two example rows, with a byte-order mark so
    spreadsheet programs open it as UTF-8."""
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(
        bulk_template_rows(
            category_slug=bulk_template_category_slug(), currency=settings.MARKETPLACE_CURRENCY
        )
    )
    return "\ufeff" + output.getvalue()


# --- Checking the file as a whole --------------------------------------------------------------


def bulk_file_check(upload) -> CheckedCsv:
    """Read an uploaded CSV and check it as a whole. Raises InvalidBulkFile with a message for
    people: not a .csv, empty, over MAX_FILE_BYTES, not UTF-8, not CSV, a header that is not the
    template's, no rows or over MAX_ROWS rows. Reads the upload from the start and rewinds it."""
    name = getattr(upload, "name", "") or ""
    if Path(name).suffix.lower() != ".csv":
        raise InvalidBulkFile(
            "Upload a CSV file (its name must end in .csv). In your spreadsheet program, choose "
            "File > Save as > CSV UTF-8."
        )
    size = upload.size or 0
    if size == 0:
        raise InvalidBulkFile("The file is empty.")
    if size > MAX_FILE_BYTES:
        raise InvalidBulkFile(
            f"The file is {size / 1_048_576:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    return _parse_csv(content)


def _parse_csv(content: bytes) -> CheckedCsv:
    try:
        # utf-8-sig drops the byte-order mark Excel writes in front of "CSV UTF-8" files.
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidBulkFile(
            "The file is not UTF-8 text. In your spreadsheet program, choose File > Save as > "
            "CSV UTF-8, then upload that file."
        ) from None
    if "\x00" in text:
        raise InvalidBulkFile("This is not a CSV text file. Save your spreadsheet as CSV UTF-8.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidBulkFile("The file is empty.")
        columns = _check_header(header)
        rows = []
        for index, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # spreadsheets often leave blank lines at the end
            if len(rows) >= MAX_ROWS:
                raise InvalidBulkFile(
                    f"The file has more than {MAX_ROWS:,} product rows. Split it into files of at "
                    f"most {MAX_ROWS:,} rows."
                )
            if len(cells) > len(columns):
                extra = [cell for cell in cells[len(columns) :] if cell.strip()]
                if extra:
                    raise InvalidBulkFile(
                        f"Row {index} has more cells than the header has columns. Check for a "
                        "comma in a value that is not inside quotes."
                    )
            values = {
                column: (cells[i] if i < len(cells) else "") for i, column in enumerate(columns)
            }
            rows.append(CsvRow(number=index, values=values))
    except csv.Error as error:
        raise InvalidBulkFile(
            f"The file cannot be read as CSV (line {reader.line_num}: {error}). Save your "
            "spreadsheet as CSV UTF-8 and upload it again."
        ) from None
    if not rows:
        raise InvalidBulkFile("The file has a header but no product rows.")
    return CheckedCsv(rows=tuple(rows))


def _check_header(header: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    expected = set(COLUMNS)
    missing = [column for column in COLUMNS if column not in columns]
    unknown = [column for column in columns if column not in expected]
    duplicated = sorted({column for column in columns if columns.count(column) > 1})
    if missing or unknown or duplicated:
        if len(missing) > len(COLUMNS) // 2:
            # Most columns missing: probably no header row at all, or another file entirely.
            problems = "it is not the template's header row"
        else:
            details = []
            if missing:
                details.append("missing " + ", ".join(missing))
            if unknown:
                details.append("unknown " + ", ".join(repr(column) for column in unknown))
            if duplicated:
                details.append("repeated " + ", ".join(duplicated))
            problems = "; ".join(details)
        raise InvalidBulkFile(
            f"The first row does not match the template's header ({problems}). Download the "
            "template and keep its first row as it is: " + ", ".join(COLUMNS) + "."
        )
    return columns


# --- Creating an upload ------------------------------------------------------------------------


def bulk_upload_create(*, seller: Seller, upload, actor) -> BulkUpload:
    """Check the file, store it privately under a server-generated name, record the upload and
    queue the import once committed.

    Raises InvalidBulkFile (nothing stored) when the file cannot be imported as a whole, and
    DomainError when the shop is not open.
    """
    if not seller.is_open:
        raise DomainError(
            "Products can be uploaded once your shop is approved.", code="seller_not_open"
        )
    checked = bulk_file_check(upload)
    original_name = Path(getattr(upload, "name", "") or "products.csv").name[:255]
    # No row, no file: an orphaned upload would never be processed nor deleted.
    with stored_private_file(
        upload, folder=f"bulk_uploads/{seller.pk}", extension=".csv"
    ) as stored_name:
        bulk_upload = BulkUpload.objects.create(
            seller=seller,
            file=stored_name,
            original_name=original_name,
            total_rows=checked.row_count,
            created_by=actor,
        )
        # Imported here, not at the top: catalog.tasks imports this module.
        from catalog import tasks

        transaction.on_commit(lambda: tasks.bulk_upload_process.delay(bulk_upload.pk))
    return bulk_upload


# --- Processing --------------------------------------------------------------------------------


@dataclass
class _ProductRows:
    handle: str
    rows: list[CsvRow] = field(default_factory=list)


@dataclass
class _ImportContext:
    seller: Seller
    currency: str
    categories_by_slug: dict[str, Category]
    rules: ScreeningRules
    existing_skus: set[str]
    first_row_of_sku: dict[str, int]


def bulk_upload_process(*, bulk_upload_id: int) -> BulkUpload:
    """Import a queued upload. Safe to run twice: only a queued upload is started (a conditional
    update), so a redelivered job finds it running or done and does nothing.

    Marks the upload failed, with the reason, when the stored file cannot be read as a whole; that
    and the end of the import email the owner a summary once committed.
    """
    started = transition_many(
        BULK_UPLOAD_MACHINE,
        pks=[bulk_upload_id],
        from_status=BulkUpload.Status.QUEUED,
        to_status=BulkUpload.Status.RUNNING,
        fields={"processed_rows": 0},
    )
    bulk_upload = BulkUpload.objects.select_related("seller", "seller__owner", "created_by").get(
        pk=bulk_upload_id
    )
    if not started:
        return bulk_upload

    try:
        with private_storage.open(bulk_upload.file.name, "rb") as stored:
            checked = _parse_csv(stored.read())
    except (InvalidBulkFile, OSError) as error:
        message = error.message if isinstance(error, InvalidBulkFile) else "The file is missing."
        return _finish(bulk_upload, status=BulkUpload.Status.FAILED, error=message)

    try:
        return _import(bulk_upload, checked)
    except Exception:
        logger.exception("Bulk upload %s failed", bulk_upload_id)
        return _finish(
            bulk_upload,
            status=BulkUpload.Status.FAILED,
            error="The import stopped because of an unexpected error. Products created before it "
            "stopped are in your product list as drafts; upload the remaining rows again.",
        )


def _import(bulk_upload: BulkUpload, checked: CheckedCsv) -> BulkUpload:
    seller = bulk_upload.seller
    BulkUpload.objects.filter(pk=bulk_upload.pk, status=BulkUpload.Status.RUNNING).update(
        total_rows=checked.row_count
    )
    bulk_upload.total_rows = checked.row_count
    context = _ImportContext(
        seller=seller,
        currency=settings.MARKETPLACE_CURRENCY,
        categories_by_slug=Category.objects.in_bulk(
            {row.values["category"].strip() for row in checked.rows} - {""}, field_name="slug"
        ),
        rules=screening_rules_load(),
        # Every product of the seller, deleted ones included: a deleted product can be restored.
        existing_skus=set(
            SKU.objects.filter(product__seller=seller).values_list("seller_sku", flat=True)
        ),
        first_row_of_sku={},
    )
    for row in checked.rows:
        code = row.values["sku"].strip()
        if code:
            context.first_row_of_sku.setdefault(code, row.number)

    processed = created = reported_processed = 0
    rejected: list[dict] = []
    for group in _group_by_handle(checked.rows):
        errors_by_row = _validate_group(group, context)
        if not any(errors_by_row.values()):
            creation_errors = _create_product(group, context, actor=bulk_upload.created_by)
            if creation_errors:
                errors_by_row = {group.rows[0].number: creation_errors}
            else:
                created += 1
        if any(errors_by_row.values()):
            rejected.extend(_rejections(group, errors_by_row))
        processed += len(group.rows)
        if processed - reported_processed >= PROGRESS_EVERY_ROWS:
            still_ours = BulkUpload.objects.filter(
                pk=bulk_upload.pk, status=BulkUpload.Status.RUNNING
            ).update(
                processed_rows=processed,
                created_count=created,
                rejected_rows=sorted(rejected, key=lambda entry: entry["row"]),
            )
            if not still_ours:
                # Someone else finished or failed this upload (staff, or a stale duplicate run):
                # stop instead of overwriting their outcome.
                bulk_upload.refresh_from_db()
                return bulk_upload
            reported_processed = processed

    return _finish(
        bulk_upload,
        status=BulkUpload.Status.DONE,
        processed_rows=processed,
        created_count=created,
        rejected_rows=sorted(rejected, key=lambda entry: entry["row"]),
    )


def _group_by_handle(rows: Iterable[CsvRow]) -> list[_ProductRows]:
    """Rows with the same handle make one product, in the order the handles first appear. A row
    without a handle is a product of its own (and is rejected for the missing handle)."""
    groups: dict[str, _ProductRows] = {}
    ordered: list[_ProductRows] = []
    for row in rows:
        handle = row.values["handle"].strip()
        if not handle:
            ordered.append(_ProductRows(handle="", rows=[row]))
            continue
        key = handle.lower()
        if key not in groups:
            groups[key] = _ProductRows(handle=handle)
            ordered.append(groups[key])
        groups[key].rows.append(row)
    return ordered


def _validate_group(group: _ProductRows, context: _ImportContext) -> dict[int, list[str]]:
    """Every problem of every row of one product, by row number (empty lists: no problem)."""
    errors: dict[int, list[str]] = {row.number: [] for row in group.rows}
    first = group.rows[0]
    if not group.handle:
        errors[first.number].append(
            "Handle: give every row a handle; rows with the same handle become one product."
        )

    # The product's own fields come from its first row; later rows may repeat them or leave them
    # empty, but may not contradict them.
    title = " ".join(first.values["title"].split())
    if not title:
        errors[first.number].append("Title: give the product a title.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors[first.number].append(f"Title: keep it under {MAX_TITLE_LENGTH} characters.")
    brand = " ".join(first.values["brand"].split())
    if len(brand) > MAX_BRAND_LENGTH:
        errors[first.number].append(f"Brand: keep it under {MAX_BRAND_LENGTH} characters.")
    category_problem = _category_error(first.values["category"].strip(), context)
    if category_problem:
        errors[first.number].append(category_problem)
    for row in group.rows[1:]:
        for column in PRODUCT_COLUMNS:
            value, expected = row.values[column].strip(), first.values[column].strip()
            if value and " ".join(value.split()) != " ".join(expected.split()):
                errors[row.number].append(
                    f"{column.capitalize()}: differs from row {first.number}, the first row of "
                    f"handle {group.handle!r}. Leave it empty on the product's later rows or "
                    "repeat it exactly."
                )

    option_names = _option_names(first)
    seen_options: dict[tuple[str, ...], int] = {}
    for row in group.rows:
        row_errors = errors[row.number]
        row_errors.extend(_sku_errors(row, context))
        row_errors.extend(_number_errors(row, context))
        row_errors.extend(_option_errors(row, option_names, first.number))
        option_values = tuple(row.values[f"option{n}_value"].strip().lower() for n in (1, 2))
        if option_values in seen_options and len(group.rows) > 1:
            row_errors.append(
                f"Options: the same options as row {seen_options[option_values]}. Each variant of "
                "a product needs its own option values (for example Size M and Size L)."
            )
        seen_options.setdefault(option_values, row.number)
    return errors


def _category_error(slug: str, context: _ImportContext) -> str | None:
    if not slug:
        return "Category: enter the category's slug (the last part of its address)."
    category = context.categories_by_slug.get(slug)
    if category is None:
        return f"Category: there is no category {slug!r}. Use a category slug from the catalog."
    return _category_problem(category.pk, context.rules)


def _category_screening_codes(category_id: int, rules: ScreeningRules) -> dict[str, str]:
    """The screening's category reasons ({code: message}) for a listing in this category."""
    decision = screen_listing(
        listing=ListingFacts(title="", description="", category_id=category_id),
        rules=rules,
        credentials=SellerCredentials(),
    )
    return {reason.code: reason.message for reason in decision.reasons}


def _category_problem(category_id: int, rules: ScreeningRules) -> str | None:
    """The screening's refusal of a prohibited category, or None. Restricted categories pass: the
    qualification is checked when the draft is submitted for review."""
    codes = _category_screening_codes(category_id, rules)
    for code in (ReasonCode.CATEGORY_PROHIBITED, ReasonCode.CATEGORY_UNKNOWN):
        if code in codes:
            return f"Category: {codes[code]}"
    return None


def _sku_errors(row: CsvRow, context: _ImportContext) -> list[str]:
    code = row.values["sku"].strip()
    if not code:
        return ["SKU: give every row its own SKU code."]
    if len(code) > MAX_SKU_LENGTH:
        return [f"SKU: keep it under {MAX_SKU_LENGTH} characters."]
    first_row = context.first_row_of_sku.get(code)
    if first_row is not None and first_row != row.number:
        return [f"SKU: {code} is also used on row {first_row}; every SKU code must be different."]
    if code in context.existing_skus:
        return [f"SKU: {code} is already used by one of your products."]
    return []


def _number_errors(row: CsvRow, context: _ImportContext) -> list[str]:
    errors = []
    price_minor = _parse_price(row.values["price"], context.currency, "Price", errors)
    if price_minor is not None and price_minor < 1:
        errors.append("Price: the price must be above zero.")
    compare_text = row.values["compare_at_price"].strip()
    if compare_text:
        compare_minor = _parse_price(compare_text, context.currency, "Compare-at price", errors)
        if compare_minor is not None and price_minor is not None and compare_minor <= price_minor:
            errors.append("Compare-at price: it must be higher than the price (or leave it empty).")
    _parse_count(row.values["stock"], "Stock", errors, required=True)
    _parse_count(row.values["weight_grams"], "Weight (grams)", errors, required=False)
    return errors


def _parse_price(text: str, currency: str, label: str, errors: list[str]) -> int | None:
    if not text.strip():
        errors.append(f"{label}: enter an amount such as {Money.example(currency)}.")
        return None
    try:
        return Money.parse(text, currency, maximum_minor=MAX_INTEGER).amount_minor
    except MoneyTooLarge:
        errors.append(f"{label}: the amount is too large.")
    except MoneyParseError as error:
        errors.append(f"{label}: {error.message}")
    return None


def _parse_count(text: str, label: str, errors: list[str], *, required: bool) -> int | None:
    text = text.strip()
    if not text:
        if required:
            errors.append(f"{label}: enter a whole number, 0 or more.")
        return None if required else 0
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses, and one such cell
    # would stop the whole import instead of rejecting its row.
    if not (text.isascii() and text.isdigit()):
        errors.append(f"{label}: {text!r} is not a whole number of 0 or more.")
        return None
    value = int(text)
    if value > MAX_INTEGER:
        errors.append(f"{label}: the number is too large.")
        return None
    return value


def _option_names(row: CsvRow) -> tuple[str, str]:
    return (
        " ".join(row.values["option1_name"].split()),
        " ".join(row.values["option2_name"].split()),
    )


def _option_errors(row: CsvRow, product_names: tuple[str, str], first_row: int) -> list[str]:
    """A variant's options: each value needs its option's name (a product's later rows may leave
    the names empty, they inherit the first row's), each named option needs a value, option 2
    needs option 1, and every row of a product uses the same option names."""
    errors = []
    names = _option_names(row)
    values = tuple(" ".join(row.values[f"option{n}_value"].split()) for n in (1, 2))
    for number in (1, 2):
        name, value, product_name = names[number - 1], values[number - 1], product_names[number - 1]
        if name and name.lower() != product_name.lower():
            errors.append(
                f"Option {number}: the product's option{number}_name is "
                f"{product_name or '(empty)'!r} on row {first_row}; every variant of a product "
                "uses the same option names."
            )
            continue
        effective_name = name or product_name
        if value and not effective_name:
            errors.append(f"Option {number}: give option{number}_name for the value {value!r}.")
        elif effective_name and not value:
            errors.append(f"Option {number}: give a value for {effective_name}.")
        if len(name) > MAX_OPTION_LENGTH or len(value) > MAX_OPTION_LENGTH:
            errors.append(
                f"Option {number}: keep names and values under {MAX_OPTION_LENGTH} characters."
            )
    if (names[1] or values[1]) and not (names[0] or values[0] or product_names[0]):
        errors.append("Option 2: fill option 1 first.")
    if names[0] and names[1] and names[0].lower() == names[1].lower():
        errors.append("Options: option 1 and option 2 need different names.")
    return errors


def _create_product(group: _ProductRows, context: _ImportContext, *, actor) -> list[str]:
    """Create the product (its own transaction, inside product_create). Returns the reasons it
    was refused, or [] when created."""
    first = group.rows[0]
    option_names = _option_names(first)
    skus = []
    for row in group.rows:
        option_values = {}
        for number, name in enumerate(option_names, 1):
            value = " ".join(row.values[f"option{number}_value"].split())
            if name and value:
                option_values[name] = value
        compare_text = row.values["compare_at_price"].strip()
        skus.append(
            SkuInput(
                seller_sku=row.values["sku"].strip(),
                price_minor=Money.parse(row.values["price"], context.currency).amount_minor,
                stock_on_hand=int(row.values["stock"].strip()),
                option_values=option_values,
                compare_at_price_minor=(
                    Money.parse(compare_text, context.currency).amount_minor
                    if compare_text
                    else None
                ),
                weight_grams=int(row.values["weight_grams"].strip() or 0),
            )
        )
    try:
        product_create(
            seller=context.seller,
            title=first.values["title"],
            description=first.values["description"],
            category=context.categories_by_slug[first.values["category"].strip()],
            brand_name=first.values["brand"],
            skus=skus,
            actor=actor,
        )
    except InvalidProduct as error:
        return [
            f"{name.capitalize()}: {message}"
            for name, messages in error.field_errors.items()
            for message in messages
        ]
    except DatabaseError:
        logger.exception("Bulk upload: product %r could not be saved", group.handle)
        return ["The product could not be saved. Check its values and upload it again."]
    context.existing_skus.update(sku.seller_sku for sku in skus)
    return []


def _rejections(group: _ProductRows, errors_by_row: dict[int, list[str]]) -> list[dict]:
    """One report entry per row of a refused product: the faulty rows with their reasons, the
    others saying which row stopped their product."""
    faulty = sorted(number for number, errors in errors_by_row.items() if errors)
    entries = []
    for row in group.rows:
        errors = errors_by_row.get(row.number) or [
            "Not imported: this product's row"
            + ("s " if len(faulty) > 1 else " ")
            + ", ".join(str(number) for number in faulty)
            + (" have" if len(faulty) > 1 else " has")
            + " errors."
        ]
        entries.append(
            {
                "row": row.number,
                "handle": group.handle,
                "sku": row.values["sku"].strip(),
                "errors": errors,
            }
        )
    return entries


def _finish(bulk_upload: BulkUpload, *, status: str, error: str = "", **counts) -> BulkUpload:
    """Record the outcome (only if the upload is still running: the conditional update is what
    keeps a duplicate run from finishing it twice) and email the owner once committed."""
    finished_at = timezone.now()
    with transaction.atomic():
        updated = transition_many(
            BULK_UPLOAD_MACHINE,
            pks=[bulk_upload.pk],
            from_status=BulkUpload.Status.RUNNING,
            to_status=status,
            fields={"error": error, "finished_at": finished_at, **counts},
            now=finished_at,
        )
        bulk_upload.refresh_from_db()
        if updated:
            _notify_summary(bulk_upload)
    return bulk_upload


def _notify_summary(bulk_upload: BulkUpload) -> None:
    seller = bulk_upload.seller
    outcome = "done" if bulk_upload.status == BulkUpload.Status.DONE else "failed"
    notify(
        kind=f"catalog.bulk_upload_{outcome}",
        key=f"bulk-upload:{bulk_upload.pk}:finished",
        to_email=seller.owner.email,
        user=seller.owner,
        about=f"bulk-upload:{bulk_upload.pk}",
        subject_template=f"catalog/email/bulk_{outcome}_subject.txt",
        body_template=f"catalog/email/bulk_{outcome}.txt",
        context={
            "shop_name": seller.shop_name,
            "original_name": bulk_upload.original_name,
            "processed_rows": bulk_upload.processed_rows,
            "total_rows": bulk_upload.total_rows,
            "created_count": bulk_upload.created_count,
            "rejected_count": len(bulk_upload.rejected_rows),
            "error": bulk_upload.error,
        },
    )


def bulk_rejected_rows_csv(*, bulk_upload: BulkUpload) -> str:
    """The report of rejected rows as CSV (row, handle, sku, reasons). Cells that a spreadsheet
    would run as a formula are prefixed with an apostrophe."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(["row", "handle", "sku", "reasons"])
    for entry in bulk_upload.rejected_rows:
        writer.writerow(
            [
                entry.get("row", ""),
                _spreadsheet_safe(entry.get("handle", "")),
                _spreadsheet_safe(entry.get("sku", "")),
                _spreadsheet_safe(" ".join(entry.get("errors", []))),
            ]
        )
    return "\ufeff" + output.getvalue()


def _spreadsheet_safe(value: str) -> str:
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
