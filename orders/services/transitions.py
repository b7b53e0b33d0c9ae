"""Order status changes: the only code that changes Order.status (DESIGN.md section 6)."""

from django.db import transaction
from django.utils import timezone

from marketplace.errors import IllegalTransition
from orders.models import ORDER_TRANSITIONS, Order, OrderStatus, OrderStatusEvent


def order_check_transition(*, from_status: str, to_status: str) -> None:
    if to_status not in ORDER_TRANSITIONS[from_status]:
        raise IllegalTransition(
            f"An order cannot go from {OrderStatus(from_status).label.lower()} to "
            f"{OrderStatus(to_status).label.lower()}."
        )


def order_transition(
    *, order: Order, to_status: str, actor=None, message: str = "", **fields
) -> Order:
    """Move one order to `to_status` with a compare-and-swap on its current status, set `fields`
    too, and write the audit row. Raises IllegalTransition when the table refuses it or the order
    changed status meanwhile."""
    from_status = order.status
    order_check_transition(from_status=from_status, to_status=to_status)
    with transaction.atomic():
        updated = Order.objects.filter(id=order.id, status=from_status).update(
            status=to_status, **fields
        )
        if updated != 1:
            raise IllegalTransition("This order changed meanwhile; reload and try again.")
        OrderStatusEvent.objects.create(
            order=order,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            message=message,
            created_at=timezone.now(),
        )
    order.status = to_status
    for name, value in fields.items():
        setattr(order, name, value)
    return order
