"""Sellers test data: sellers and members; the Seller Center set-up (addresses, shipping, payout
accounts, violations, qualifications) and `ready_seller`, an approved shop with every listing step
done; KYC documents and the bytes of genuine and hostile uploads."""

import io
import struct
import zlib
from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from sellers.models import (
    KycDocument,
    PayoutAccount,
    Qualification,
    Seller,
    SellerMember,
    SellerPolicyAcceptance,
    SellerRole,
    SellerStatus,
    ShippingTemplate,
    ShopAddress,
    Violation,
)
from sellers.selectors import seller_policies_outstanding
from sellers.services.violations import violation_record
from tests.accounts.factories import UserFactory
from tests.policies.factories import CategoryFactory, PolicyVersionFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# --- Sellers and members ---------------------------------------------------------------------


class SellerFactory(factory.django.DjangoModelFactory):
    """A seller application in `status` (default draft), with its owner as the owner member."""

    class Meta:
        model = Seller
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    kind = Seller.Kind.INDIVIDUAL
    status = SellerStatus.DRAFT
    shop_name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")
    legal_name = factory.Faker("name")
    contact_email = factory.LazyAttribute(lambda o: o.owner.email)
    contact_phone = "+1 555 0100"
    country = "US"
    address_line1 = "1 Market Street"
    city = "Springfield"
    postal_code = "12345"
    main_category = factory.SubFactory(CategoryFactory)

    @factory.post_generation
    def owner_membership(obj, create, extracted, **kwargs):
        if create:
            SellerMember.objects.get_or_create(
                seller=obj, user=obj.owner, defaults={"role": SellerRole.OWNER}
            )


class ApprovedSellerFactory(SellerFactory):
    status = SellerStatus.APPROVED


class SellerMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SellerMember

    seller = factory.SubFactory(ApprovedSellerFactory)
    user = factory.SubFactory(UserFactory)
    role = SellerRole.PRODUCT_MANAGER


# --- Seller Center set-up --------------------------------------------------------------------


class ShopAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShopAddress

    seller = factory.SubFactory(ApprovedSellerFactory)
    kind = ShopAddress.Kind.SHIP_FROM
    contact_name = "Dock Manager"
    phone = "+1 555 0101"
    line1 = "10 Warehouse Road"
    city = "Springfield"
    postal_code = "12345"
    country = "US"


class ShippingTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingTemplate

    seller = factory.SubFactory(ApprovedSellerFactory)
    currency = "USD"
    flat_fee_minor = 499
    free_shipping_threshold_minor = 5000
    processing_days = 2


class PayoutAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayoutAccount

    seller = factory.SubFactory(ApprovedSellerFactory)
    gateway = "local"
    external_id = factory.Sequence(lambda n: f"acct_test_{n}")
    status = PayoutAccount.Status.ACTIVE
    charges_enabled = True
    payouts_enabled = True
    bank_last4 = "6789"


class ViolationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Violation

    seller = factory.SubFactory(ApprovedSellerFactory)
    kind = Violation.Kind.MISLEADING_LISTING
    points = 4
    reason = "The photos showed a different product."
    occurred_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.occurred_at + timedelta(days=90))


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    seller = factory.SubFactory(ApprovedSellerFactory)
    kind = Qualification.Kind.BRAND
    brand_name = "Acme"
    document = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="licence.pdf"))
    original_name = "licence.pdf"
    content_type = "application/pdf"


def record_violation(seller, points, **kwargs):
    """A violation recorded through the service (so thresholds act), late shipment by default."""
    kwargs.setdefault("kind", Violation.Kind.LATE_SHIPMENT)
    kwargs.setdefault("reason", "Shipped three days late.")
    return violation_record(seller_id=seller.pk, points=points, **kwargs)


def ready_seller(**kwargs):
    """An approved seller that meets every listing prerequisite (with one policy in force)."""
    seller = ApprovedSellerFactory(**kwargs)
    ShopAddressFactory(seller=seller, kind=ShopAddress.Kind.SHIP_FROM)
    ShopAddressFactory(seller=seller, kind=ShopAddress.Kind.RETURN)
    ShippingTemplateFactory(seller=seller)
    PayoutAccountFactory(seller=seller)
    version = PolicyVersionFactory()
    SellerPolicyAcceptance.objects.create(seller=seller, policy_version=version)
    return seller


# --- KYC documents and the application -------------------------------------------------------


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


def form_data(**overrides):
    """The application form's fields as a browser posts them (an individual's, all valid)."""
    data = {
        "kind": "individual",
        "shop_name": "Green Leaf Tea",
        "slug": "green-leaf-tea",
        "legal_name": "Mira Lin",
        "contact_email": "mira@example.com",
        "contact_phone": "+1 555 0199",
        "country": "US",
        "address_line1": "12 Harbour Road",
        "address_line2": "",
        "city": "Portland",
        "region": "OR",
        "postal_code": "97201",
        "tax_id": "",
        "main_category": CategoryFactory().pk,
        "description": "",
    }
    data.update(overrides)
    return data


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


# --- Uploaded files: genuine and hostile -----------------------------------------------------


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


def pdf_upload(name: str = "document.pdf") -> SimpleUploadedFile:
    """A genuine PDF upload: a KYC document, a qualification's licence."""
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png_upload(name: str = "id-card.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("PNG"), content_type="image/png")


def jpeg_upload(name: str = "licence.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes("JPEG"), content_type="image/jpeg")
