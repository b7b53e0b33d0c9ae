"""Stock reservation and release (docs/architecture.md, "Orders and checkout").

Reserving locks the SKU rows in id order, so two checkouts that share SKUs always lock them in the
same order and cannot deadlock; decrements use F() so the database does the arithmetic, and the
CHECK constraint `sku_stock_not_negative` is the last guard against overselling.
"""

from collections.abc import Iterable

from django.db import connection
from django.db.models import Case, F, IntegerField, QuerySet, Value, When

from catalog.models import SKU, Product
from catalog.selectors import product_is_storefront_visible
from catalog.services.products import product_refresh_listing_fields


def sku_is_buyable(sku: SKU) -> bool:
    """An active variant of a product on the storefront (catalog's visibility rule). Needs
    sku.product and sku.product.seller loaded."""
    return sku.is_active and product_is_storefront_visible(sku.product)


def stock_lock_skus(*, skus: QuerySet[SKU]) -> list[SKU]:
    """Lock the SKUs (with their product, seller and its shipping template and owner loaded) in
    id order. The caller must be inside transaction.atomic()."""
    queryset = skus.select_related(
        "product__seller__shipping_template", "product__seller__owner"
    ).order_by("id")
    # Lock only the SKU rows: locking products and sellers too would serialize unrelated checkouts.
    # SQLite ignores the lock (it serializes writers anyway).
    if connection.features.has_select_for_update_of:
        queryset = queryset.select_for_update(of=("self",))
    else:
        queryset = queryset.select_for_update()
    return list(queryset)


def stock_decrement(*, quantities: dict[int, int]) -> None:
    """Take the units ({sku id: quantity}) in one UPDATE. The caller holds the SKUs' locks and
    checked there is enough; the database CHECK refuses anything that would go below zero."""
    if not quantities:
        return
    taken = Case(
        *(When(id=sku_id, then=Value(quantity)) for sku_id, quantity in quantities.items()),
        default=Value(0),
        output_field=IntegerField(),
    )
    SKU.objects.filter(id__in=list(quantities)).update(stock_on_hand=F("stock_on_hand") - taken)


def stock_release(*, quantities: dict[int, int]) -> None:
    """Give units back (an expired or cancelled order). Locks in id order like reservations."""
    for sku_id in sorted(quantities):
        SKU.objects.filter(id=sku_id).update(stock_on_hand=F("stock_on_hand") + quantities[sku_id])


def stock_refresh_products(*, product_ids: Iterable[int]) -> None:
    """Bring the products' listing flags (in stock) in step after stock changed. Run after the
    transaction that changed stock, outside its locks: the flag is a listing hint, not a promise."""
    for product in Product.objects.filter(id__in=sorted(set(product_ids))).select_related(
        "category", "brand"
    ):
        product_refresh_listing_fields(product=product)
