"""Demo orders for `manage.py seed_demo`: the demo shopper's paid orders across the demo shops, so
the Seller Center's Orders page and the shopper's order pages have something to show.

Placed through the same services a shopper uses (cart, saved address, checkout with the local
gateway's test card), so every order has its stock taken, its commission posted to the ledger and
its audit rows. Idempotent: nothing is placed when the shopper already has orders.
"""

from django.conf import settings

from catalog.models import SKU, ProductStatus
from marketplace.accounts.models import User
from marketplace.payments.local_money import SUCCEEDING_TEST_CARD
from orders.models import Order
from orders.services.addresses import buyer_address_create
from orders.services.cart import cart_add, cart_get_or_create
from orders.services.checkout import checkout_place
from orders.services.stock import sku_is_buyable

DEMO_SHOPPER_EMAIL = "shopper@demo.test"

# Each checkout: the shops it buys from (by slug) and how many units of one variant of each. The
# demo seller (seller@demo.test, Sofia's Studio) is in every one, so its Orders page has several.
DEMO_CHECKOUTS: tuple[tuple[tuple[str, int], ...], ...] = (
    (("sofias-studio", 1), ("northwind-audio", 1)),
    (("sofias-studio", 2), ("maple-kitchen", 1), ("trailhead-outdoors", 1)),
    (("sofias-studio", 1),),
    (("sofias-studio", 3), ("glow-lab", 1)),
)


def _buyable_skus_by_shop(slugs: set[str]) -> dict[str, list[SKU]]:
    """Each shop's variants a shopper can buy now, oldest first, with enough stock for a few."""
    skus = (
        SKU.objects.filter(
            product__seller__slug__in=slugs,
            product__status=ProductStatus.LIVE,
            is_active=True,
            stock_on_hand__gte=5,
        )
        .select_related("product__seller")
        .order_by("product__seller__slug", "product_id", "id")
    )
    by_shop: dict[str, list[SKU]] = {}
    for sku in skus:
        if sku_is_buyable(sku):
            by_shop.setdefault(sku.product.seller.slug, []).append(sku)
    return by_shop


def seed_shopper_orders() -> int:
    """Place the demo checkouts for the demo shopper; returns how many orders were made."""
    if settings.PAYMENT_GATEWAY != "local":
        return 0  # the test card belongs to the local gateway
    shopper = User.objects.filter(email=DEMO_SHOPPER_EMAIL).first()
    if shopper is None or Order.objects.filter(buyer=shopper).exists():
        return 0
    slugs = {slug for checkout in DEMO_CHECKOUTS for slug, _ in checkout}
    skus = _buyable_skus_by_shop(slugs)
    if not skus:
        return 0
    address = buyer_address_create(
        user=shopper,
        name="Sam Shopper",
        line1="742 Evergreen Terrace",
        city="Springfield",
        region="OR",
        postal_code="97477",
        country="US",
        phone="+1 541 555 0142",
    )
    cart = cart_get_or_create(user=shopper)
    placed = 0
    for number, checkout_plan in enumerate(DEMO_CHECKOUTS):
        for slug, quantity in checkout_plan:
            shop_skus = skus.get(slug)
            if shop_skus:
                # A different variant in each checkout, so the orders do not all look alike.
                cart_add(cart=cart, sku_id=shop_skus[number % len(shop_skus)].id, quantity=quantity)
        if not cart.lines.exists():
            continue
        checkout = checkout_place(
            buyer=shopper, address=address, payment_method=SUCCEEDING_TEST_CARD
        )
        placed += checkout.orders.count()
    return placed


def demo_steps():
    """Called by `manage.py seed_demo` after the catalog's steps (the products must exist)."""
    return [(f"orders of {DEMO_SHOPPER_EMAIL}", seed_shopper_orders)]
