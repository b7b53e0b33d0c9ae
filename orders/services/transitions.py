"""Order status changes (docs/architecture.md, "State machines"): ORDER_MACHINE through
marketplace.state, like every other status change."""

from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order


def order_check_transition(*, from_status: str, to_status: str) -> None:
    """Raise IllegalTransition unless ORDER_TRANSITIONS allows the move."""
    ORDER_MACHINE.check(from_status, to_status)


def order_transition(
    *, order: Order, to_status: str, actor=None, message: str = "", **fields
) -> Order:
    """Move one order to `to_status` with a compare-and-swap on its current status, set `fields`
    too, and write the audit row. Raises IllegalTransition when the table refuses it or the order
    changed status meanwhile."""
    return transition(
        ORDER_MACHINE,
        instance=order,
        to_status=to_status,
        actor=actor,
        message=message,
        fields=fields,
    )
