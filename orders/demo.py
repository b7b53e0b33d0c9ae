"""Demo orders for `manage.py seed_demo`: the demo shopper's paid orders across the demo shops, so
the Seller Center's Orders page and the shopper's order pages have something to show.

Placed through the same services a shopper uses (cart, saved address, checkout with the local
gateway's test card), so every order has its stock taken, its commission posted to the ledger and
its audit rows. Idempotent: nothing is placed when the shopper already has orders.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from catalog.models import SKU, ProductStatus
from marketplace.accounts.models import User
from marketplace.payments.local_money import SUCCEEDING_TEST_CARD
from orders.models import (
    BuyerAddress,
    CancellationInitiator,
    CancellationReason,
    Checkout,
    Order,
    OrderStatusEvent,
    Refund,
    Shipment,
)
from orders.services.addresses import buyer_address_create
from orders.services.cancellations import cancellation_request, order_cancel
from orders.services.cart import cart_add, cart_get_or_create
from orders.services.checkout import checkout_place
from orders.services.deadlines import orders_auto_complete
from orders.services.fulfilment import (
    DEFAULT_PROCESSING_DAYS,
    PackageInput,
    order_ship,
    orders_release_for_shipment,
)
from orders.services.refunds import refund_attempt
from orders.services.stock import sku_is_buyable
from orders.services.tracking import tracking_poll_due
from sellers.models import ShippingTemplate

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


# --- The demo seller's orders through their life -----------------------------------------------

DEMO_SELLER_SLUG = "sofias-studio"
DEMO_TRACKING_PREFIX = "DP07"  # + the order id: unique, and the demo carrier's format


def _place_demo_seller_order(*, shopper, address, cart, sku: SKU) -> Order:
    cart_add(cart=cart, sku_id=sku.id, quantity=1)
    checkout = checkout_place(buyer=shopper, address=address, payment_method=SUCCEEDING_TEST_CARD)
    return checkout.orders.get()


def _placed_at(order: Order, placed_at: datetime) -> Order:
    """Move a just-placed order's clock back to `placed_at` (its creation, payment, cancel window
    and placement events shift together), so the services below can be run at past moments with
    `now` and the demo shows orders of several ages. Only timestamps change: the statuses still
    move through the services."""
    shift = order.created_at - placed_at
    Order.objects.filter(pk=order.pk).update(
        created_at=order.created_at - shift,
        paid_at=order.paid_at - shift,
        cancel_window_ends_at=order.cancel_window_ends_at - shift,
        expires_at=order.expires_at - shift if order.expires_at else None,
    )
    checkout = order.checkout
    Checkout.objects.filter(pk=checkout.pk).update(
        created_at=checkout.created_at - shift,
        paid_at=checkout.paid_at - shift if checkout.paid_at else None,
    )
    for event in OrderStatusEvent.objects.filter(order=order):
        OrderStatusEvent.objects.filter(pk=event.pk).update(created_at=event.created_at - shift)
    order.refresh_from_db()
    return order


def _release(order: Order) -> Order:
    orders_release_for_shipment(now=order.cancel_window_ends_at)
    order.refresh_from_db()
    return order


def _ship(order: Order, *, at: datetime) -> None:
    order_ship(
        order_id=order.pk,
        seller=order.seller,
        actor=order.seller.owner,
        packages=[
            PackageInput(carrier="demo", tracking_number=f"{DEMO_TRACKING_PREFIX}{order.pk:08d}")
        ],
        now=at,
    )


def seed_demo_seller_order_lives() -> int:
    """The demo shopper's orders from the demo seller in every state after payment: to ship (due
    within the day), shipped (label created), in transit, delivered, completed, cancelled with its
    refund, and with a cancellation request waiting for the seller (on hold: the checkouts above).
    Each is its own checkout of Sofia's Studio alone, its clock set back, then moved by the real
    services at past moments (release, ship, the demo carrier's tracking, completion, cancel).
    Idempotent: nothing is done once one of these orders has a parcel."""
    if settings.PAYMENT_GATEWAY != "local":
        return 0
    shopper = User.objects.filter(email=DEMO_SHOPPER_EMAIL).first()
    if shopper is None:
        return 0
    mine = Order.objects.filter(buyer=shopper, seller__slug=DEMO_SELLER_SLUG)
    if Shipment.objects.filter(order__in=mine).exists():
        return 0
    skus = _buyable_skus_by_shop({DEMO_SELLER_SLUG}).get(DEMO_SELLER_SLUG)
    address = BuyerAddress.objects.filter(user=shopper).order_by("id").first()
    if not skus or address is None:
        return 0
    cart = cart_get_or_create(user=shopper)
    now = timezone.now()
    template = ShippingTemplate.objects.filter(seller__slug=DEMO_SELLER_SLUG).first()
    processing = timedelta(days=template.processing_days if template else DEFAULT_PROCESSING_DAYS)
    window = timedelta(minutes=settings.ORDER_CANCEL_WINDOW_MINUTES)
    step = timedelta(minutes=settings.DEMO_CARRIER_STEP_MINUTES)

    def place(index: int, placed_at: datetime) -> Order:
        order = _place_demo_seller_order(
            shopper=shopper, address=address, cart=cart, sku=skus[index % len(skus)]
        )
        return _placed_at(order, placed_at)

    # Placed so that the ship-by deadline falls 5 hours from now: the "Needs attention" tab.
    to_ship = _release(place(0, now + timedelta(hours=5) - processing - window))
    # The buyer asked to cancel after the free window; the seller has not answered yet.
    asked = _release(place(1, now + timedelta(hours=30) - processing - window))
    cancellation_request(
        order_id=asked.pk, buyer=shopper, reason=CancellationReason.WRONG_ADDRESS, now=now
    )
    # Shipped 10 minutes ago (label created), shipped 2.5 steps ago (the carrier has it), shipped
    # 3 days ago (delivered) and 10 days ago (delivered, then completed by the job).
    shipped_ago = {
        "shipped": timedelta(minutes=10),
        "in_transit": step * 2 + step / 2,
        "delivered": timedelta(days=3),
        "completed": timedelta(days=10),
    }
    shipped_pks = []
    for index, ago in enumerate(shipped_ago.values(), start=2):
        order = _release(place(index, now - ago - window - timedelta(hours=3)))
        _ship(order, at=now - ago)
        shipped_pks.append(order.pk)
    tracking_poll_due(now=now, min_interval=timedelta(0))
    orders_auto_complete(now=now)
    # Cancelled by the buyer inside the free window, two days ago, and refunded.
    cancelled_at = now - timedelta(days=2)
    cancelled = place(6, cancelled_at - timedelta(minutes=20))
    cancellation = order_cancel(
        order_id=cancelled.pk,
        initiated_by=CancellationInitiator.BUYER,
        reason=CancellationReason.CHANGED_MIND,
        actor=shopper,
        now=cancelled_at,
    )
    for refund in Refund.objects.filter(cancellation=cancellation):
        refund_attempt(refund_id=refund.pk, now=cancelled_at)
    return Order.objects.filter(pk__in=[to_ship.pk, asked.pk, cancelled.pk, *shipped_pks]).count()


# Finance: orders of several shops completed this many days ago. Those past the settlement hold
# (7 days) settle when the step runs; the two youngest stay pending, so Finance shows both.
DEMO_MONEY_SHOPS = ("sofias-studio", "northwind-audio", "maple-kitchen")
DEMO_COMPLETED_DAYS_AGO = (24, 18, 12, 9, 3, 1)


def seed_settled_money() -> int:
    """The demo shops' money in each state: orders delivered and completed at past moments (the
    buyer confirming receipt), then the settlement job run now, so pending and available balances
    both exist. Idempotent: nothing is done once a demo shop has a settled order."""
    if settings.PAYMENT_GATEWAY != "local":
        return 0
    from orders.services.deadlines import order_confirm_receipt
    from orders.services.settlement import orders_settle_due

    shopper = User.objects.filter(email=DEMO_SHOPPER_EMAIL).first()
    address = BuyerAddress.objects.filter(user=shopper).order_by("id").first() if shopper else None
    if shopper is None or address is None:
        return 0
    if Order.objects.filter(seller__slug__in=DEMO_MONEY_SHOPS, settled_at__isnull=False).exists():
        return 0
    skus_by_shop = _buyable_skus_by_shop(set(DEMO_MONEY_SHOPS))
    cart = cart_get_or_create(user=shopper)
    now = timezone.now()
    window = timedelta(minutes=settings.ORDER_CANCEL_WINDOW_MINUTES)
    placed = 0
    for shop_index, slug in enumerate(DEMO_MONEY_SHOPS):
        skus = skus_by_shop.get(slug)
        if not skus:
            continue
        for index, days in enumerate(DEMO_COMPLETED_DAYS_AGO[shop_index:]):
            completed_at = now - timedelta(days=days)
            shipped_at = completed_at - timedelta(days=2)
            order = _place_demo_seller_order(
                shopper=shopper, address=address, cart=cart, sku=skus[(index + 2) % len(skus)]
            )
            order = _release(_placed_at(order, shipped_at - window - timedelta(hours=3)))
            _ship(order, at=shipped_at)
            tracking_poll_due(now=completed_at - timedelta(hours=1), min_interval=timedelta(0))
            order_confirm_receipt(order_id=order.pk, buyer=shopper, now=completed_at)
            placed += 1
    # Ten days ago the oldest orders settled and the payout job paid them out (one shop's first
    # payout bounced and was paid again); the rest settle now, the youngest stay pending.
    paid_out_at = now - timedelta(days=10)
    orders_settle_due(now=paid_out_at)
    _seed_payouts(at=paid_out_at)
    orders_settle_due(now=now)
    return placed


def _seed_payouts(*, at: datetime) -> None:
    from sellers.models import Seller
    from sellers.services.payouts import payout_mark_failed, payouts_create_due, payouts_run

    bounced = Seller.objects.filter(slug=DEMO_MONEY_SHOPS[1]).first()
    if bounced is not None:
        for payout_id in payouts_create_due(now=at, seller_ids=[bounced.pk]):
            payout_mark_failed(
                payout_id=payout_id,
                reason="The bank returned the transfer: the account number is closed.",
                now=at,
            )
    payouts_run(now=at + timedelta(hours=1), sleep=lambda seconds: None)


def demo_steps():
    """Called by `manage.py seed_demo` after the catalog's steps (the products must exist)."""
    return [
        (f"orders of {DEMO_SHOPPER_EMAIL}", seed_shopper_orders),
        (
            f"{DEMO_SHOPPER_EMAIL}'s orders from the demo seller, in every state",
            seed_demo_seller_order_lives,
        ),
        ("the demo shops' money: orders completed and settled", seed_settled_money),
    ]
