"""Demo sellers for `manage.py seed_demo`: open shops with a finished set-up, one application
waiting for review, one suspended shop. Built through the same services people use, so the demo
shows real states (audit rows, acceptances, documents) and never one a person could not reach.

Idempotent: a shop that exists (by slug) is left as it is.
"""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from marketplace.accounts.models import User
from marketplace.payments.services import local_account_complete_onboarding
from policies.models import Category
from policies.selectors import policy_versions_in_force
from sellers.models import KycDocument, Qualification, Seller, ShopAddress, Violation
from sellers.services.application import (
    kyc_document_add,
    seller_application_start,
    seller_application_submit,
    seller_approve,
)
from sellers.services.policy_acceptance import seller_policies_accept
from sellers.services.qualifications import qualification_approve, qualification_submit
from sellers.services.setup import (
    payout_account_connect,
    payout_account_refresh,
    shipping_template_set,
    shop_address_set,
    shop_return_address_copy_from_ship_from,
)
from sellers.services.violations import violation_record

DEMO_SELLER_PASSWORD = "demo-seller-pass"  # noqa: S105 - printed for people to sign in with
# A minimal, genuine PDF: what a scanned document upload would be.
DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class DemoShop:
    email: str
    owner_name: str
    shop_name: str
    slug: str
    category_slug: str
    city: str
    country: str
    description: str
    kind: str = Seller.Kind.BUSINESS
    state: str = "open"  # open, submitted or suspended
    restricted_category_slugs: tuple[str, ...] = field(default=())
    brands: tuple[str, ...] = field(default=())


DEMO_SHOPS = [
    DemoShop(
        "seller@demo.test", "Sofia Seller", "Sofia's Studio", "sofias-studio", "womens-clothing",
        "Portland", "US", "Small-batch linen clothing, cut and sewn in Portland.",
    ),
    DemoShop(
        "northwind@demo.test", "Noah Wind", "Northwind Audio", "northwind-audio", "audio",
        "Austin", "US", "Headphones and speakers we test ourselves before we sell them.",
        brands=("Northwind",),
    ),
    DemoShop(
        "maple@demo.test", "Mia Maple", "Maple & Co Kitchen", "maple-kitchen", "kitchen",
        "Toronto", "CA", "Cookware and tools for people who cook every day.",
    ),
    DemoShop(
        "glow@demo.test", "Grace Low", "Glow Lab", "glow-lab", "cosmetics",
        "London", "GB", "Clean cosmetics made in small batches, every formula certified.",
        restricted_category_slugs=("cosmetics", "skincare"),
    ),
    DemoShop(
        "trailhead@demo.test", "Theo Head", "Trailhead Outdoors", "trailhead-outdoors",
        "sports-outdoors", "Denver", "US", "Tents, packs and layers for long days outside.",
    ),
    DemoShop(
        "applicant@demo.test", "Paula Applicant", "Pixel Parade Toys", "pixel-parade-toys",
        "toys-games", "Austin", "US", "Wooden toys and puzzles.",
        kind=Seller.Kind.INDIVIDUAL, state="submitted",
    ),
    DemoShop(
        "suspended@demo.test", "Sam Suspended", "Bargain Bin Deals", "bargain-bin-deals",
        "bags-accessories", "Miami", "US", "Discount bags and accessories.",
        state="suspended",
    ),
]  # fmt: skip


def _person(email: str, full_name: str) -> User:
    user = User.objects.filter(email=email).first() or User(email=email)
    user.full_name = full_name
    user.is_active = True
    user.set_password(DEMO_SELLER_PASSWORD)
    user.save()
    return user


def _staff() -> User:
    return User.objects.filter(is_staff=True).order_by("pk").first()


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, DEMO_PDF, content_type="application/pdf")


def seed_shop(shop: DemoShop) -> None:
    if Seller.objects.filter(slug=shop.slug).exists():
        return
    owner = _person(shop.email, shop.owner_name)
    staff = _staff()
    seller = seller_application_start(
        owner=owner,
        kind=shop.kind,
        shop_name=shop.shop_name,
        slug=shop.slug,
        legal_name=shop.shop_name + (" LLC" if shop.kind == Seller.Kind.BUSINESS else ""),
        contact_email=shop.email,
        contact_phone="+1 555 0100",
        country=shop.country,
        address_line1="100 Market Street",
        address_line2="",
        city=shop.city,
        region="",
        postal_code="10001",
        tax_id="12-3456789" if shop.kind == Seller.Kind.BUSINESS else "",
        main_category=_root_category(shop.category_slug),
        description=shop.description,
    )
    kyc_document_add(
        seller=seller,
        kind=KycDocument.Kind.PASSPORT,
        upload=_pdf("passport.pdf"),
        uploaded_by=owner,
    )
    if shop.kind == Seller.Kind.BUSINESS:
        kyc_document_add(
            seller=seller,
            kind=KycDocument.Kind.BUSINESS_REGISTRATION,
            upload=_pdf("registration.pdf"),
            uploaded_by=owner,
        )
    seller_policies_accept(
        seller=seller,
        user=owner,
        ip_address=None,
        version_ids=[v.pk for v in policy_versions_in_force(seller_facing_only=True)],
    )
    seller_application_submit(seller=seller, actor=owner)
    if shop.state == "submitted":
        return

    seller = seller_approve(seller_id=seller.pk, actor=staff)
    _finish_set_up(seller, shop)
    for slug in shop.restricted_category_slugs:
        qualification = qualification_submit(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=Category.objects.get(slug=slug),
            document=_pdf(f"{slug}-certificate.pdf"),
            submitted_by=owner,
        )
        qualification_approve(qualification_id=qualification.pk, actor=staff)
    for brand in shop.brands:
        qualification = qualification_submit(
            seller=seller,
            kind=Qualification.Kind.BRAND,
            brand_name=brand,
            document=_pdf("brand-authorization.pdf"),
            submitted_by=owner,
        )
        qualification_approve(qualification_id=qualification.pk, actor=staff)
    if shop.state == "suspended":
        for kind, points, reason in [
            (Violation.Kind.INTELLECTUAL_PROPERTY, 24, "Listed bags carrying a registered trademark without authorization."),
            (Violation.Kind.MISLEADING_LISTING, 24, "Described replica handbags as genuine designer goods."),
        ]:  # fmt: skip
            violation_record(
                seller_id=seller.pk, kind=kind, points=points, reason=reason, recorded_by=staff
            )


def _root_category(slug: str) -> Category:
    category = Category.objects.get(slug=slug)
    while category.parent_id is not None:
        category = category.parent
    return category


def _finish_set_up(seller: Seller, shop: DemoShop) -> None:
    shop_address_set(
        seller=seller,
        kind=ShopAddress.Kind.SHIP_FROM,
        contact_name=shop.owner_name,
        phone="+1 555 0100",
        line1="200 Warehouse Way",
        line2="",
        city=shop.city,
        region="",
        postal_code="10002",
        country=shop.country,
    )
    shop_return_address_copy_from_ship_from(seller=seller)
    shipping_template_set(
        seller=seller, flat_fee_minor=499, free_shipping_threshold_minor=5000, processing_days=2
    )
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://127.0.0.1:8000")
    local_account_complete_onboarding(
        external_id=seller.payout_account.external_id,
        holder=shop.owner_name,
        account_number="000123456789",
    )
    payout_account_refresh(seller=seller)


def demo_steps():
    """Called by `manage.py seed_demo`, after the policies' steps (the categories must exist)."""
    return [(f"shop {shop.shop_name}", lambda shop=shop: seed_shop(shop)) for shop in DEMO_SHOPS]
