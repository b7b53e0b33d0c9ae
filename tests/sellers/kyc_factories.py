"""KYC documents for tests, and the bytes of genuine and hostile uploads."""

import io
import struct
import zlib

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from sellers.models import KycDocument, SellerPolicyAcceptance
from sellers.selectors import seller_policies_outstanding

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def image_bytes(image_format: str, size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 80)).save(buffer, image_format)
    return buffer.getvalue()


def png_claiming_size(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header claims width x height pixels: what a
    decompression bomb looks like before anyone decodes it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def pdf_upload(name: str = "passport-scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png_upload(name: str = "id-card.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG"), content_type="image/png")


def jpeg_upload(name: str = "licence.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG"), content_type="image/jpeg")


class KycDocumentFactory(factory.django.DjangoModelFactory):
    """A stored PDF document; `seller` is required."""

    class Meta:
        model = KycDocument

    kind = KycDocument.Kind.PASSPORT
    file = factory.django.FileField(data=PDF_BYTES, filename="stored.pdf")
    original_name = "passport.pdf"
    content_type = "application/pdf"
    size_bytes = len(PDF_BYTES)
    sha256 = "0" * 64
    uploaded_by = factory.LazyAttribute(lambda o: o.seller.owner)


def accept_all_policies(seller) -> None:
    for version in seller_policies_outstanding(seller=seller):
        SellerPolicyAcceptance.objects.create(
            seller=seller, policy_version=version, accepted_by=seller.owner
        )


def complete_application(seller) -> None:
    """Give a draft what it needs to be submitted: its documents and every policy accepted."""
    KycDocumentFactory(seller=seller)
    if seller.kind == seller.Kind.BUSINESS:
        KycDocumentFactory(seller=seller, kind=KycDocument.Kind.BUSINESS_REGISTRATION)
    accept_all_policies(seller)
