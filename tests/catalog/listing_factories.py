"""Helpers for the listing, Seller Center product and image tests: products built through the
services (so SKUs and listing fields are right), image files of every kind, a signed-in seller."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog.services.products import SkuInput, product_create
from policies.models import PolicyStatus
from sellers.models import Qualification
from tests.policies.factories import CategoryFactory, KeywordRuleFactory
from tests.sellers.factories_seller_center import QualificationFactory, ready_seller

__all__ = [
    "KeywordRuleFactory",
    "approved_qualification",
    "bomb_png_upload",
    "draft_product",
    "image_bytes",
    "image_upload",
    "live_product",
    "ready_seller",
    "restricted_category",
]


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


def live_product(**kwargs):
    """A product that went live through the real submission (screening approved it)."""
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
