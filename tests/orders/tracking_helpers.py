"""Shipped orders for the tracking tests, made without the shipping service: Shipment rows created
directly and the order moved through ORDER_MACHINE, as the shipping service would leave them."""

from datetime import datetime

from django.utils import timezone

from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order, OrderStatus, Shipment
from tests.orders.factories import paid_order

_numbers = iter(range(1, 10**9))


def demo_tracking_number(suffix: str = "") -> str:
    """A fresh demo-carrier number (DP + 10 digits), ending in `suffix` when given. Numbers
    ending in 13 (the demo carrier's delivery problem) only when asked for."""
    digits = f"{next(_numbers):010d}"
    while digits.endswith("13") and suffix != "13":
        digits = f"{next(_numbers):010d}"
    if suffix:
        digits = digits[: -len(suffix)] + suffix
    return f"DP{digits}"


def shipped_order(
    *,
    packages: int = 1,
    carrier: str = "demo",
    tracking_numbers: list[str] | None = None,
    shipped_at: datetime | None = None,
    buyer=None,
) -> Order:
    """A paid order awaiting collection with `packages` parcels labelled at `shipped_at`."""
    order = paid_order(buyer)
    for status in (OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION):
        transition(ORDER_MACHINE, instance=order, to_status=status)
    shipped_at = shipped_at or timezone.now()
    numbers = tracking_numbers or [demo_tracking_number() for _ in range(packages)]
    for number in numbers:
        Shipment.objects.create(
            order=order,
            seller=order.seller,
            carrier=carrier,
            tracking_number=number,
            created_at=shipped_at,
        )
    return order
