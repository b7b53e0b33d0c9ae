"""Catalog test data: model factories; `live_product`, a live product the way the storefront sees
it; products built through the services (`draft_product`, `reviewed_live_product`); restricted
categories and qualifications; image files of every kind; IP complaints at each step (and a
product taken down by an upheld one); bulk-upload
CSV rows and files."""

import csv
import io
import struct
import zlib
from datetime import timedelta

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from catalog.models import SKU, Brand, BulkUpload, IPComplaint, Product, ProductStatus
from catalog.services.bulk_upload import COLUMNS, bulk_upload_create
from catalog.services.ip_complaints import (
    ip_complaint_appeal,
    ip_complaint_file,
    ip_complaint_uphold,
)
from catalog.services.products import SkuInput, product_create, product_refresh_listing_fields
from policies.models import PolicyStatus
from sellers.models import Qualification
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory, QualificationFactory, ready_seller


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    normalized_name = factory.LazyAttribute(lambda o: " ".join(o.name.lower().split()))
    slug = factory.Sequence(lambda n: f"brand-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product in `status` (default draft) with no SKUs; add them with SKUFactory."""

    class Meta:
        model = Product

    seller = factory.SubFactory(ApprovedSellerFactory)
    status = ProductStatus.DRAFT
    title = factory.Sequence(lambda n: f"Linen shirt {n}")
    description = "A comfortable shirt made of washed linen."
    category = factory.SubFactory(CategoryFactory)


class LiveProductFactory(ProductFactory):
    status = ProductStatus.LIVE
    price_min_minor = 2500
    price_max_minor = 2500
    in_stock = True


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    product = factory.SubFactory(ProductFactory)
    seller_sku = factory.Sequence(lambda n: f"SKU-{n}")
    price_minor = 2500
    stock_on_hand = 10


# Live products the way the storefront sees them: SKUs created and the listing fields (price
# range, stock, search text) refreshed by the real service, published at a known time.


def live_product(
    *,
    prices=(2500,),
    stock: int = 10,
    options: list[dict] | None = None,
    published_days_ago: float = 0,
    **fields,
) -> Product:
    """A live product with one SKU per price (`options[i]` its option values), made live by the
    factory (no screening; see `reviewed_live_product` for one that went through review)."""
    fields.setdefault("published_at", timezone.now() - timedelta(days=published_days_ago))
    product = LiveProductFactory(**fields)
    for position, price in enumerate(prices):
        SKUFactory(
            product=product,
            price_minor=price,
            stock_on_hand=stock,
            position=position,
            option_values=options[position] if options else {},
        )
    return product_refresh_listing_fields(product=product)


# Products built through the services, for the listing, Seller Center product and image tests.


def draft_product(*, seller=None, title="Washed linen shirt", description="Soft linen.",
                  category=None, brand_name="", skus=None, actor=None):  # fmt: skip
    seller = seller or ready_seller()
    return product_create(
        seller=seller,
        title=title,
        description=description,
        category=category or CategoryFactory(),
        brand_name=brand_name,
        attributes={"Material": "Linen"},
        skus=skus
        or [
            SkuInput("SHIRT-S", 2500, 5, {"Size": "S"}),
            SkuInput("SHIRT-M", 2700, 0, {"Size": "M"}, compare_at_price_minor=3500),
        ],
        actor=actor or seller.owner,
    )


def reviewed_live_product(**kwargs):
    """A `draft_product` that went live through the real submission (screening approved it),
    unlike `live_product`, which the factory makes live."""
    from catalog.services.listing import product_submit_for_review

    product = draft_product(**kwargs)
    product_submit_for_review(product=product, actor=product.seller.owner)
    product.refresh_from_db()
    assert product.status == "live", product.decisions.first().reasons
    return product


def restricted_category(**kwargs):
    return CategoryFactory(
        policy_status=PolicyStatus.RESTRICTED,
        policy_reason="Cosmetics need a qualification.",
        qualification_hint="Upload a product safety report.",
        **kwargs,
    )


def approved_qualification(*, seller, category=None, brand_name=""):
    if category is not None:
        return QualificationFactory(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=category,
            brand_name="",
            status=Qualification.Status.APPROVED,
        )
    return QualificationFactory(
        seller=seller,
        kind=Qualification.Kind.BRAND,
        brand_name=brand_name,
        status=Qualification.Status.APPROVED,
    )


# Image files.


def image_bytes(*, size=(1200, 900), image_format="JPEG", mode="RGB", exif=None) -> bytes:
    image = Image.new(mode, size, (200, 80, 40) if mode == "RGB" else (200, 80, 40, 120))
    buffer = io.BytesIO()
    options = {"exif": exif} if exif is not None else {}
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def image_upload(name="photo.jpg", **kwargs) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(**kwargs), content_type="image/jpeg")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb_png_upload(width=50_000, height=50_000) -> SimpleUploadedFile:
    """A tiny file whose header claims billions of pixels: decoding it would exhaust memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = zlib.compress(b"\x00" * 100)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )
    return SimpleUploadedFile("bomb.png", data, content_type="image/png")


def private_files(settings) -> list:
    """Every file in private storage (complaint proofs, appeal evidence, bulk-upload files)."""
    root = settings.PRIVATE_MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


# IP complaints: filed, upheld, appealed, each through the real services.

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str = "certificate.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def fake_pdf_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("proof.pdf", b"<html><script>alert(1)</script>", "application/pdf")


def file_complaint(product=None, complainant=None, **overrides) -> IPComplaint:
    arguments = {
        "product_id": (product or LiveProductFactory()).pk,
        "complainant": complainant or UserFactory(),
        "right_type": IPComplaint.RightType.TRADEMARK,
        "rights_owner": "Northwind Ltd",
        "registration_number": "EUTM 000123",
        "description": "The listing uses our registered logo.",
        "proof_upload": pdf_upload(),
    }
    arguments.update(overrides)
    return ip_complaint_file(**arguments)


def upheld_complaint(**kwargs) -> IPComplaint:
    complaint = file_complaint(**kwargs)
    return ip_complaint_uphold(
        complaint_id=complaint.pk, actor=StaffUserFactory(), note="The logo is theirs."
    )


def appealed_complaint(**kwargs) -> IPComplaint:
    complaint = upheld_complaint(**kwargs)
    seller = complaint.product.seller
    return ip_complaint_appeal(
        complaint_id=complaint.pk,
        seller=seller,
        actor=seller.owner,
        text="We hold a licence.",
        evidence_upload=pdf_upload("licence.pdf"),
    )


def taken_down_product(seller):
    product = reviewed_live_product(seller=seller, title="Printed tote")
    complaint = file_complaint(product=product)
    ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Their logo.")
    product.refresh_from_db()
    assert product.status == ProductStatus.PLATFORM_DEACTIVATED
    return product


# Bulk upload: CSV rows, files, and an import run the way production runs it.


def product_row(**overrides) -> dict[str, str]:
    values = {
        "handle": "mug",
        "title": "Stoneware mug",
        "description": "Holds 350 ml.",
        "category": "kitchen",
        "brand": "",
        "option1_name": "",
        "option1_value": "",
        "option2_name": "",
        "option2_value": "",
        "sku": "MUG-1",
        "price": "12.50",
        "compare_at_price": "",
        "stock": "40",
        "weight_grams": "400",
    }
    values.update(overrides)
    return values


def csv_text(rows: list[dict[str, str]], header=COLUMNS) -> str:
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(column, "") for column in header])
    return output.getvalue()


def csv_upload(content: str | bytes, name: str = "products.csv") -> SimpleUploadedFile:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def import_rows(seller, rows, django_capture_on_commit_callbacks, **kwargs) -> BulkUpload:
    """Upload `rows` and run the job the way production does: enqueued on commit (eager here)."""
    with django_capture_on_commit_callbacks(execute=True):
        bulk_upload = bulk_upload_create(
            seller=seller, upload=csv_upload(csv_text(rows, **kwargs)), actor=seller.owner
        )
    bulk_upload.refresh_from_db()
    return bulk_upload
