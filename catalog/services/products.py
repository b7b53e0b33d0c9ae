"""The core writes on products shared by every catalog feature: status changes and the
denormalized fields that listing pages read."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import PRODUCT_MACHINE, SKU, Brand, Product, ProductStatus, ProductStatusEvent
from marketplace.errors import DomainError
from marketplace.pagecache import storefront_changed
from marketplace.state import transition
from policies.models import Category
from policies.screening import normalize_brand
from sellers.models import Seller


def product_transition(
    *,
    product_id: int,
    to_status: str,
    actor=None,
    message: str = "",
    after_commit: Callable[[Product], None] | None = None,
) -> Product:
    """Move a product to `to_status` under a row lock and write the audit row; `after_commit`
    (notifications) runs once committed. The one place a product's status changes.

    Raises IllegalTransition, changing nothing, when PRODUCT_TRANSITIONS does not allow it.
    """
    with transaction.atomic():
        # The lock keeps published_at consistent with the status it goes with.
        product = Product.objects.select_for_update().get(pk=product_id)
        fields = {}
        if to_status == ProductStatus.LIVE and product.published_at is None:
            fields["published_at"] = timezone.now()
        transition(
            PRODUCT_MACHINE,
            instance=product,
            to_status=to_status,
            actor=actor,
            message=message,
            fields=fields,
        )
        storefront_changed()
        if after_commit is not None:
            transaction.on_commit(lambda: after_commit(product))
    return product


def product_search_text(product: Product) -> str:
    """What search matches on: title, brand, the category path, and the description."""
    category_names = []
    category = product.category
    while category is not None:
        category_names.append(category.name)
        category = category.parent
    parts = [product.title, product.brand.name if product.brand_id else "", *category_names]
    parts.append(product.description or "")
    return " ".join(part for part in parts if part).lower()


def product_refresh_listing_fields(*, product: Product) -> Product:
    """Recompute the fields listing pages filter and sort on (price range and stock over the active
    SKUs, and the search text) and save them. Call after any change to SKUs or content."""
    summary = product.skus.filter(is_active=True).aggregate(
        low=Min("price_minor"), high=Max("price_minor")
    )
    product.price_min_minor = summary["low"] or 0
    product.price_max_minor = summary["high"] or 0
    product.in_stock = product.skus.filter(is_active=True, stock_on_hand__gt=0).exists()
    product.search_text = product_search_text(product)
    product.save(
        update_fields=[
            "price_min_minor",
            "price_max_minor",
            "in_stock",
            "search_text",
            "updated_at",
        ]
    )
    storefront_changed()
    return product


@dataclass(frozen=True)
class SkuInput:
    """One variant as a form, the CSV importer or the API gives it, already parsed."""

    seller_sku: str
    price_minor: int
    stock_on_hand: int
    option_values: dict[str, str] = field(default_factory=dict)
    compare_at_price_minor: int | None = None
    weight_grams: int = 0


class InvalidProduct(DomainError):
    """What is wrong, per field (`field_errors`), so a form or a CSV report can show it."""

    code = "invalid_product"

    def __init__(self, field_errors: dict[str, list[str]]):
        self.field_errors = field_errors
        details = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in field_errors.items())
        super().__init__(f"The product cannot be saved: {details}")


def brand_for_name(name: str) -> Brand | None:
    """The brand with this name (matched like brand authorizations are), created when new."""
    normalized = normalize_brand(name)
    if not normalized:
        return None
    brand = Brand.objects.filter(normalized_name=normalized).first()
    if brand is not None:
        return brand
    base_slug = slugify(normalized)[:100] or "brand"
    slug, suffix = base_slug, 1
    while Brand.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base_slug}-{suffix}"
    brand, _ = Brand.objects.get_or_create(
        normalized_name=normalized, defaults={"name": " ".join(name.split()), "slug": slug}
    )
    return brand


MAX_TITLE_LENGTH = 200
# Prices, stock and weights are stored in 32-bit integer columns: a larger value would fail in the
# database (PostgreSQL refuses it, SQLite overflows past 64 bits) instead of as a message.
MAX_STORED_INTEGER = 2_147_483_647


def product_content_errors(*, title: str, category: Category | None) -> dict[str, list[str]]:
    """What is wrong with a product's title and category (the rules every entry path shares:
    forms, revisions, the CSV importer). `title` is already whitespace-normalized."""
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Give the product a title."]
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = [f"Keep the title under {MAX_TITLE_LENGTH} characters."]
    if category is None:
        errors["category"] = ["Choose a category."]
    return errors


def sku_set_errors(skus: list[SkuInput]) -> dict[str, list[str]]:
    """What is wrong with a set of variants, under the key "skus" (empty: nothing)."""
    errors: dict[str, list[str]] = {}
    if not skus:
        errors["skus"] = ["Add at least one variant with a price and stock."]
        return errors
    codes = [sku.seller_sku.strip() for sku in skus]
    if any(not code for code in codes):
        errors.setdefault("skus", []).append("Every variant needs a SKU code.")
    if len(set(codes)) != len(codes):
        errors.setdefault("skus", []).append("SKU codes must be different from each other.")
    option_sets = [tuple(sorted(sku.option_values.items())) for sku in skus]
    if len(set(option_sets)) != len(option_sets):
        errors.setdefault("skus", []).append("Two variants have the same options.")
    for sku in skus:
        numbers = (sku.price_minor, sku.compare_at_price_minor or 0, sku.stock_on_hand)
        if max(*numbers, sku.weight_grams) > MAX_STORED_INTEGER:
            errors.setdefault("skus", []).append(
                f"{sku.seller_sku}: a price, stock or weight is too large."
            )
        if sku.price_minor < 1:
            errors.setdefault("skus", []).append(f"{sku.seller_sku}: the price must be above zero.")
        if sku.stock_on_hand < 0:
            errors.setdefault("skus", []).append(f"{sku.seller_sku}: stock cannot be negative.")
        if sku.compare_at_price_minor is not None and sku.compare_at_price_minor <= sku.price_minor:
            errors.setdefault("skus", []).append(
                f"{sku.seller_sku}: the compare-at price must be higher than the price."
            )
    return errors


def product_create(
    *,
    seller: Seller,
    title: str,
    description: str,
    category: Category,
    brand_name: str = "",
    attributes: dict | None = None,
    skus: list[SkuInput],
    actor=None,
) -> Product:
    """Create a draft product with its SKUs. Raises InvalidProduct (nothing written) with the
    problems per field. Submitting it for review is a separate step."""
    title = " ".join((title or "").split())
    errors = product_content_errors(title=title, category=category)
    errors.update(sku_set_errors(skus))
    if errors:
        raise InvalidProduct(errors)
    with transaction.atomic():
        product = Product.objects.create(
            seller=seller,
            title=title,
            description=(description or "").strip(),
            category=category,
            brand=brand_for_name(brand_name),
            attributes=attributes or {},
            currency=settings.MARKETPLACE_CURRENCY,
        )
        SKU.objects.bulk_create(
            [
                SKU(
                    product=product,
                    seller_sku=sku.seller_sku.strip(),
                    option_values=sku.option_values,
                    price_minor=sku.price_minor,
                    compare_at_price_minor=sku.compare_at_price_minor,
                    stock_on_hand=sku.stock_on_hand,
                    weight_grams=sku.weight_grams,
                    position=index,
                )
                for index, sku in enumerate(skus)
            ]
        )
        product_refresh_listing_fields(product=product)
        ProductStatusEvent.objects.create(
            product=product,
            from_status=ProductStatus.DRAFT,
            to_status=ProductStatus.DRAFT,
            actor=actor,
            message="Created",
        )
    return product
