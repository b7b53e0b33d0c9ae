"""Orders ready for after-sales, and requests in each state, built through the services people
use (orders' shipping and tracking, returns' requests)."""

from datetime import timedelta

from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services.fulfilment import PackageInput, order_ship
from orders.services.tracking import tracking_poll_due
from returns.models import RequestKind, RequestReason, ReturnRequest
from returns.services.requests import return_request_create
from tests.orders.factories import ready_to_ship

_numbers = iter(range(10**9, 10**10))


def demo_tracking_number() -> str:
    """A fresh Agora Demo Post number (the demo carrier delivers it two hours after shipment)."""
    return f"DP{next(_numbers)}"


def delivered_order(seller, *lines: tuple[int, int], buyer=None, shipped_at=None) -> Order:
    """An order of `seller` (one line per (price_minor, quantity); one $25.00 line by default)
    shipped with the demo carrier and delivered by the tracking job."""
    order = ready_to_ship(seller, *lines, buyer=buyer)
    order_ship(
        order_id=order.pk,
        seller=seller,
        actor=None,
        packages=[PackageInput(carrier="demo", tracking_number=demo_tracking_number(), lines=None)],
    )
    shipped_at = shipped_at or timezone.now() - timedelta(days=1)
    order.shipments.update(created_at=shipped_at)
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED, order.status
    return order


def return_request(
    order: Order,
    *,
    kind=RequestKind.RETURN_AND_REFUND,
    reason=RequestReason.DAMAGED,
    quantities: dict[int, int] | None = None,
    now=None,
) -> ReturnRequest:
    """The buyer's request about every unit of every line (or `quantities`)."""
    if quantities is None:
        quantities = {line.pk: line.quantity for line in order.lines.all()}
    return return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind=kind,
        reason=reason,
        description="The box was crushed.",
        quantities=quantities,
        now=now,
    )
