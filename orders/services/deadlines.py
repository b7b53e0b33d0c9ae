"""Order deadlines and completion (docs/architecture.md, "Orders and checkout").

- `orders_cancel_missed_ship_by` (beat): a paid order still waiting for shipment after its
  ship-by deadline is cancelled by the marketplace (refund, restock: orders.services.cancellations)
  and counts against the shop as a late shipment.
- `orders_auto_complete` (beat): a delivered order completes ORDER_AUTO_COMPLETE_DAYS after its
  delivery unless after-sales is open (`open_after_sales_condition`, the one owner of that rule).
- `order_confirm_receipt`: the buyer says the parcel arrived; the order completes at once.

Every move goes through marketplace.state; every job is safe to run twice or on two workers.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.state import transition, transition_many
from orders.models import (
    ORDER_MACHINE,
    CancellationInitiator,
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
)
from sellers.models import Violation
from sellers.services.violations import violation_record

logger = logging.getLogger(__name__)

# How many orders one run of a job handles; the next run (a minute later) takes the rest.
BATCH_SIZE = 500


class ReceiptNotConfirmable(DomainError):
    code = "receipt_not_confirmable"


# --- After-sales: the one place that says whether an order still has something open -----------


# Functions that return a condition on Order (an Exists over OuterRef("pk"), or a Q) true when
# an order has something open of theirs; the returns app registers its open requests here.
_AFTER_SALES_CONDITIONS: list[Callable[[], Q | Exists]] = []


def after_sales_condition_register(condition: Callable[[], Q | Exists]) -> None:
    if condition not in _AFTER_SALES_CONDITIONS:
        _AFTER_SALES_CONDITIONS.append(condition)


def open_after_sales_condition() -> Q:
    """An order with after-sales still open: a pending cancellation request, or anything a
    registered app says is open (an open return request). Every caller follows this one rule."""
    condition = Q(
        Exists(
            OrderCancellation.objects.filter(
                order=OuterRef("pk"), status=CancellationStatus.PENDING
            )
        )
    )
    for extra in _AFTER_SALES_CONDITIONS:
        condition |= Q(extra())
    return condition


def order_has_open_after_sales(order: Order) -> bool:
    return Order.objects.filter(pk=order.pk).filter(open_after_sales_condition()).exists()


# --- Violations for fulfilment failures --------------------------------------------------------


def order_record_fulfilment_violation(*, order: Order, cause: str, reason: str) -> Violation | None:
    """Record one late-shipment violation against the order's shop for `cause` (a
    CancellationReason value such as "ship_by_missed" or "out_of_stock"). At most one per order
    and cause: the rule names both, and a second call finds it and records nothing."""
    rule = f"order:{order.pk}:{cause}"
    if Violation.objects.filter(seller_id=order.seller_id, rule=rule).exists():
        return None
    return violation_record(
        seller_id=order.seller_id,
        kind=Violation.Kind.LATE_SHIPMENT,
        points=settings.ORDER_LATE_SHIPMENT_POINTS,
        reason=reason,
        rule=rule,
    )


# --- Jobs --------------------------------------------------------------------------------------


def orders_cancel_missed_ship_by(*, now: datetime | None = None) -> list[int]:
    """Cancel every order still awaiting shipment after its ship-by deadline, each in its own
    transaction (one failure does not hold back the others), and record a violation for its shop.
    Returns the ids cancelled by this run. A second run, or a second worker, finds the order
    cancelled already (the order row is locked, and order_cancel swaps the status) and does
    nothing."""
    from orders.services.cancellations import order_cancel  # J's; imported when first needed

    now = now or timezone.now()
    due = list(
        Order.objects.filter(status=OrderStatus.AWAITING_SHIPMENT, ship_by__lt=now)
        .order_by("ship_by", "id")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )
    cancelled = []
    for pk in due:
        try:
            with transaction.atomic():
                order = (
                    Order.objects.select_for_update()
                    .filter(pk=pk, status=OrderStatus.AWAITING_SHIPMENT, ship_by__lt=now)
                    .first()
                )
                if order is None:  # shipped or cancelled meanwhile
                    continue
                order_cancel(
                    order_id=pk,
                    initiated_by=CancellationInitiator.SYSTEM,
                    reason=CancellationReason.SHIP_BY_MISSED,
                    now=now,
                )
                order_record_fulfilment_violation(
                    order=order,
                    cause=CancellationReason.SHIP_BY_MISSED,
                    reason=(
                        f"Order {order.number} was not shipped by its deadline "
                        f"({timezone.localtime(order.ship_by):%b %d, %Y %H:%M}) and was cancelled."
                    ),
                )
        except DomainError as error:
            # Changed meanwhile (shipped at the last second, cancelled by someone else): next.
            logger.info("Order %s not cancelled for a missed ship-by: %s", pk, error)
            continue
        cancelled.append(pk)
    return cancelled


def orders_auto_complete(*, now: datetime | None = None) -> list[int]:
    """Complete the delivered orders whose delivery is older than ORDER_AUTO_COMPLETE_DAYS and
    that have no after-sales open, in one batch (transition_many: one UPDATE, one audit insert).
    Returns the ids completed; a second run finds none."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ORDER_AUTO_COMPLETE_DAYS)
    due = Q(delivered_at__lte=cutoff) & ~open_after_sales_condition()
    pks = list(
        Order.objects.filter(due, status=OrderStatus.DELIVERED)
        .order_by("delivered_at", "id")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )
    if not pks:
        return []
    with transaction.atomic():
        # Lock the rows first (id order, as everywhere): a return request being filed holds its
        # order's row, so the UPDATE below (a new snapshot) sees it once it commits, and an open
        # request always keeps its order from completing.
        list(Order.objects.select_for_update().filter(pk__in=pks).order_by("pk").values_list("pk"))
        return transition_many(
            ORDER_MACHINE,
            pks=pks,
            where=due,
            from_status=OrderStatus.DELIVERED,
            to_status=OrderStatus.COMPLETED,
            message="Completed automatically after the delivery.",
            fields={"completed_at": now},
            now=now,
        )


# --- The buyer ---------------------------------------------------------------------------------


def order_confirm_receipt(*, order_id: int, buyer, now: datetime | None = None) -> Order:
    """The buyer confirms the parcel arrived: an order in transit (it arrived before the carrier
    said so) becomes delivered, then a delivered order completes. Another buyer's order, or any
    other status, raises ReceiptNotConfirmable and changes nothing. Confirming twice is
    harmless: a completed order is returned as it is."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, buyer=buyer).first()
        if order is None:  # the view answers 404 before this; the service refuses it anyway
            raise ReceiptNotConfirmable("No such order.")
        if order.status == OrderStatus.COMPLETED:
            return order
        if order.status not in (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED):
            raise ReceiptNotConfirmable(
                "You can confirm receipt once the order is on its way or delivered."
            )
        if order_has_open_after_sales(order):
            raise ReceiptNotConfirmable("This order has a request open; it completes after it.")
        if order.status == OrderStatus.IN_TRANSIT:
            transition(
                ORDER_MACHINE,
                instance=order,
                to_status=OrderStatus.DELIVERED,
                actor=buyer,
                message="The buyer confirmed the parcel arrived.",
                fields={"delivered_at": now},
                now=now,
            )
        transition(
            ORDER_MACHINE,
            instance=order,
            to_status=OrderStatus.COMPLETED,
            actor=buyer,
            message="The buyer confirmed receipt.",
            fields={"completed_at": now},
            now=now,
        )
    return order
