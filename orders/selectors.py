"""Reads for the cart, checkout and buyer pages, and the Seller Center's orders."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from marketplace.money import Money
from orders.models import (
    CancellationStatus,
    Cart,
    CartLine,
    Checkout,
    Order,
    OrderCancellation,
    OrderLine,
    OrderStatus,
    OrderStatusEvent,
    Shipment,
    ShipmentDirection,
    TrackingEvent,
)
from orders.services.stock import sku_is_buyable
from sellers.models import Seller, ShippingTemplate


def shipping_fee_minor(*, template: ShippingTemplate | None, subtotal_minor: int) -> int:
    """The seller's flat fee, or nothing at or above its free-shipping threshold. A seller without
    a shipping template ships free."""
    if template is None:
        return 0
    threshold = template.free_shipping_threshold_minor
    if threshold is not None and subtotal_minor >= threshold:
        return 0
    return template.flat_fee_minor


def seller_shipping_template(seller: Seller) -> ShippingTemplate | None:
    try:
        return seller.shipping_template
    except ShippingTemplate.DoesNotExist:
        return None


@dataclass
class CartItem:
    line: CartLine
    # Problems that stop the checkout until the shopper fixes the line.
    warnings: list[str] = field(default_factory=list)
    # Changes worth knowing that do not stop it (a new price).
    notices: list[str] = field(default_factory=list)

    @property
    def sku(self):
        return self.line.sku

    @property
    def product(self):
        return self.line.sku.product

    @property
    def quantity(self) -> int:
        return self.line.quantity

    @property
    def unit_price(self) -> Money:
        return Money(self.line.sku.price_minor, settings.MARKETPLACE_CURRENCY)

    @property
    def line_total(self) -> Money:
        return self.unit_price.times(self.line.quantity)

    @property
    def is_buyable(self) -> bool:
        return not self.warnings


@dataclass
class SellerGroup:
    seller: Seller
    items: list[CartItem]
    subtotal: Money
    shipping: Money

    @property
    def total(self) -> Money:
        return self.subtotal + self.shipping


@dataclass
class CartSummary:
    groups: list[SellerGroup]
    currency: str

    @property
    def item_count(self) -> int:
        return sum(item.quantity for group in self.groups for item in group.items)

    @property
    def is_empty(self) -> bool:
        return not self.groups

    @property
    def subtotal(self) -> Money:
        return sum((g.subtotal for g in self.groups), Money.zero(self.currency))

    @property
    def shipping(self) -> Money:
        return sum((g.shipping for g in self.groups), Money.zero(self.currency))

    @property
    def total(self) -> Money:
        return self.subtotal + self.shipping

    @property
    def has_problems(self) -> bool:
        return any(item.warnings for group in self.groups for item in group.items)


def cart_summary(*, cart: Cart | None) -> CartSummary:
    """The cart grouped by seller, with each seller's shipping and live warnings (no longer for
    sale, sold out, fewer left than wanted). One query."""
    currency = settings.MARKETPLACE_CURRENCY
    if cart is None:
        return CartSummary(groups=[], currency=currency)
    lines = CartLine.objects.filter(cart=cart).select_related(
        "sku__product__seller__shipping_template"
    )
    by_seller: dict[int, list[CartItem]] = {}
    sellers: dict[int, Seller] = {}
    for line in lines:
        sku = line.sku
        item = CartItem(line=line)
        if not sku_is_buyable(sku):
            item.warnings.append("No longer for sale: remove it to check out.")
        elif sku.stock_on_hand <= 0:
            item.warnings.append("Sold out: remove it to check out.")
        elif sku.stock_on_hand < line.quantity:
            item.warnings.append(f"Only {sku.stock_on_hand} left: lower the quantity to check out.")
        seen = line.price_seen_minor
        if seen is not None and seen != sku.price_minor:
            was, now = Money(seen, currency), Money(sku.price_minor, currency)
            item.notices.append(f"Price changed from {was} to {now} since you added it.")
        seller = sku.product.seller
        sellers[seller.id] = seller
        by_seller.setdefault(seller.id, []).append(item)
    groups = []
    for seller_id, items in by_seller.items():
        seller = sellers[seller_id]
        subtotal = sum((item.line_total for item in items if item.is_buyable), Money.zero(currency))
        fee = shipping_fee_minor(
            template=seller_shipping_template(seller), subtotal_minor=subtotal.amount_minor
        )
        shipping = Money(fee if subtotal.amount_minor else 0, currency)
        groups.append(SellerGroup(seller=seller, items=items, subtotal=subtotal, shipping=shipping))
    return CartSummary(groups=groups, currency=currency)


def cart_item_count(*, user=None, session_key: str | None = None) -> int:
    """How many items (units) the shopper's cart holds: a signed-in shopper's found by user, an
    anonymous one's by the cart key of their session. One query; none without either."""
    if user is not None and user.is_authenticated:
        lines = CartLine.objects.filter(cart__user=user)
    elif session_key:
        lines = CartLine.objects.filter(cart__session_key=session_key)
    else:
        return 0
    return lines.aggregate(total=Sum("quantity"))["total"] or 0


def buyer_orders(*, user) -> QuerySet[Order]:
    """The buyer's orders, newest first, with seller and lines loaded (constant queries)."""
    return (
        Order.objects.filter(buyer=user)
        .select_related("seller")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("id")))
        .order_by("-created_at", "-id")
    )


def buyer_order_get(*, user, order_id: int) -> Order:
    """One of the buyer's orders; another buyer's id answers 404."""
    return get_object_or_404(
        Order.objects.filter(buyer=user)
        .select_related("seller", "checkout")
        .prefetch_related("lines", "status_events", _BUYER_PACKAGES),
        id=order_id,
    )


# The order page's packages, each with its tracking events newest first: two queries however many.
_BUYER_PACKAGES = Prefetch(
    "shipments",
    queryset=Shipment.objects.filter(direction=ShipmentDirection.OUTBOUND)
    .order_by("created_at", "id")
    .prefetch_related(
        Prefetch("events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id"))
    ),
)


def buyer_checkout_get(*, user, checkout_id: int) -> Checkout:
    return get_object_or_404(
        Checkout.objects.filter(buyer=user).prefetch_related(
            Prefetch("orders", queryset=Order.objects.select_related("seller").order_by("id")),
            "orders__lines",
        ),
        id=checkout_id,
    )


# --- Seller Center: the seller's orders ---------------------------------------------------------


@dataclass(frozen=True)
class SellerOrderTab:
    key: str
    label: str
    statuses: tuple[str, ...]  # empty: every status the seller sees


# A seller sees an order once it is paid: an unpaid order is the shopper's still (it may expire,
# and its stock comes back), so neither the tabs nor the pages show it, nor one that expired unpaid.
SELLER_ORDER_TABS: tuple[SellerOrderTab, ...] = (
    SellerOrderTab("all", "All", ()),
    # Not a status: what the seller should act on now (needs_attention_condition below).
    SellerOrderTab("needs_attention", "Needs attention", ()),
    SellerOrderTab("on_hold", "On hold", (OrderStatus.ON_HOLD,)),
    SellerOrderTab(
        "to_ship", "To ship", (OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION)
    ),
    SellerOrderTab("shipped", "Shipped", (OrderStatus.IN_TRANSIT,)),
    SellerOrderTab("delivered", "Delivered", (OrderStatus.DELIVERED,)),
    SellerOrderTab("completed", "Completed", (OrderStatus.COMPLETED,)),
    SellerOrderTab("cancelled", "Cancelled", (OrderStatus.CANCELLED,)),
)
SELLER_ORDER_TABS_BY_KEY = {tab.key: tab for tab in SELLER_ORDER_TABS}
NEEDS_ATTENTION = "needs_attention"
# An order to ship whose ship-by deadline is this close (or past) needs the seller's attention.
NEEDS_ATTENTION_SHIP_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class SellerOrderFilters:
    """The list's search and placed-date range (dates in the seller's local time, inclusive)."""

    search: str = ""
    placed_from: date | None = None
    placed_to: date | None = None


def needs_attention_condition(*, now: datetime) -> Q:
    """Orders the seller should act on now: to ship with the ship-by deadline within 24 hours (or
    past), or with a cancellation request waiting for the seller's answer."""
    pending_request = Exists(
        OrderCancellation.objects.filter(order=OuterRef("pk"), status=CancellationStatus.PENDING)
    )
    return Q(
        status__in=(OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION),
        ship_by__lte=now + NEEDS_ATTENTION_SHIP_WITHIN,
    ) | Q(pending_request)


_ORDER_NUMBER = re.compile(r"^#?A?0*(\d{1,12})$", re.IGNORECASE)


def _seller_visible_orders(*, seller: Seller) -> QuerySet[Order]:
    return Order.objects.filter(seller=seller, paid_at__isnull=False)


def _seller_order_search(
    orders: QuerySet[Order], search: str, filters: SellerOrderFilters | None = None
) -> QuerySet[Order]:
    """An order number ("A0000042", "42"), part of the buyer's email address or name (or the
    name shipped to), or a SKU code of one of its lines (exact, any case); and the placed dates."""
    if filters is not None:
        if filters.placed_from:
            orders = orders.filter(created_at__gte=_day_start(filters.placed_from))
        if filters.placed_to:
            orders = orders.filter(created_at__lt=_day_start(filters.placed_to + timedelta(days=1)))
    # NUL cannot be in a PostgreSQL string: a pasted one would fail the query, not match nothing.
    search = " ".join(search.replace("\x00", "").split())[:100]
    if not search:
        return orders
    condition = (
        Q(buyer__email__icontains=search)
        | Q(buyer__full_name__icontains=search)
        | Q(ship_name__icontains=search)
        | Exists(OrderLine.objects.filter(order=OuterRef("pk"), sku_code__iexact=search))
    )
    number = _ORDER_NUMBER.match(search)
    if number:
        condition |= Q(pk=int(number.group(1)))
    return orders.filter(condition)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def seller_orders(
    *,
    seller: Seller,
    status: str | None = None,
    search: str = "",
    filters: SellerOrderFilters | None = None,
    now: datetime | None = None,
) -> QuerySet[Order]:
    """The seller's orders, newest first, optionally one tab's (`status` is a tab key of
    SELLER_ORDER_TABS, or an OrderStatus value), a search and placed dates, with the buyer loaded
    and the number of items annotated (`item_count`): one query for any page."""
    orders = _seller_order_search(_seller_visible_orders(seller=seller), search, filters)
    tab = SELLER_ORDER_TABS_BY_KEY.get(status or "")
    if tab is not None and tab.key == NEEDS_ATTENTION:
        orders = orders.filter(needs_attention_condition(now=now or timezone.now()))
    elif tab is not None and tab.statuses:
        orders = orders.filter(status__in=tab.statuses)
    elif tab is None and status:
        orders = orders.filter(status=status)
    item_count = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        orders.select_related("buyer")
        .annotate(item_count=Coalesce(Subquery(item_count), 0))
        .order_by("-created_at", "-id")
    )


def seller_order_tab_counts(
    *,
    seller: Seller,
    search: str = "",
    filters: SellerOrderFilters | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """How many of the seller's orders each tab of SELLER_ORDER_TABS holds (one query)."""
    orders = _seller_order_search(_seller_visible_orders(seller=seller), search, filters)
    now = now or timezone.now()
    counts = {}
    for tab in SELLER_ORDER_TABS:
        if tab.key == NEEDS_ATTENTION:
            counts[tab.key] = Count("id", filter=needs_attention_condition(now=now))
        elif tab.statuses:
            counts[tab.key] = Count("id", filter=Q(status__in=tab.statuses))
        else:
            counts[tab.key] = Count("id")
    return orders.order_by().aggregate(**counts)


def seller_order_get(*, seller: Seller, order_id: int) -> Order:
    """One of the seller's orders with its buyer, lines and status events; another seller's order
    (or one not paid yet) answers 404."""
    return get_object_or_404(
        _seller_visible_orders(seller=seller)
        .select_related("buyer")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            Prefetch(
                "status_events", queryset=OrderStatusEvent.objects.order_by("created_at", "id")
            ),
        ),
        id=order_id,
    )


def settlement_release_dates(order_ids) -> dict:
    """When each completed order's pending money becomes available (completion + the hold), for
    the Seller Center's Finance page (registered with sellers.finance in OrdersConfig.ready())."""
    hold = timedelta(days=settings.SETTLEMENT_HOLD_DAYS)
    return {
        pk: completed_at + hold
        for pk, completed_at in Order.objects.filter(
            pk__in=list(order_ids), completed_at__isnull=False
        ).values_list("pk", "completed_at")
    }
