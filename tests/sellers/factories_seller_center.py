"""Factories for the Seller Center set-up: addresses, shipping, payout accounts, violations,
qualifications, invitations; and `ready_seller`, an approved shop with every listing step done."""

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sellers.models import (
    PayoutAccount,
    Qualification,
    SellerPolicyAcceptance,
    ShippingTemplate,
    ShopAddress,
    Violation,
)
from tests.policies.factories import PolicyVersionFactory
from tests.sellers.factories import ApprovedSellerFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str = "licence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


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
