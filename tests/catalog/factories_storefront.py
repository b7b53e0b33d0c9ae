"""Live products the way the storefront sees them: SKUs created and the listing fields (price
range, stock, search text) refreshed by the real service, published at a known time."""

from datetime import timedelta

from django.utils import timezone

from catalog.models import Product
from catalog.services.products import product_refresh_listing_fields
from tests.catalog.factories import LiveProductFactory, SKUFactory


def live_product(
    *,
    prices=(2500,),
    stock: int = 10,
    options: list[dict] | None = None,
    published_days_ago: float = 0,
    **fields,
) -> Product:
    """A live product with one SKU per price (`options[i]` its option values)."""
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
