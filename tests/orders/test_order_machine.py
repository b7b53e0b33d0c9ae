"""Every move of the order machine, legal and illegal, against the table written out here from
docs/architecture.md ("Shipping and tracking, cancellations and refunds") rather than read from
the code under test."""

import pytest

from marketplace.errors import IllegalTransition
from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order, OrderStatus, OrderStatusEvent
from tests.orders.factories import paid_order

pytestmark = pytest.mark.django_db

S = OrderStatus
LEGAL = {
    (S.UNPAID, S.ON_HOLD),
    (S.UNPAID, S.CANCELLED),
    (S.ON_HOLD, S.AWAITING_SHIPMENT),
    (S.ON_HOLD, S.CANCELLED),
    (S.AWAITING_SHIPMENT, S.AWAITING_COLLECTION),
    (S.AWAITING_SHIPMENT, S.IN_TRANSIT),
    (S.AWAITING_SHIPMENT, S.CANCELLED),
    (S.AWAITING_COLLECTION, S.IN_TRANSIT),
    (S.AWAITING_COLLECTION, S.CANCELLED),
    (S.IN_TRANSIT, S.DELIVERED),
    (S.DELIVERED, S.COMPLETED),
}
PAIRS = [(a, b) for a in S.values for b in S.values if a != b]


@pytest.mark.parametrize(("from_status", "to_status"), PAIRS)
def test_the_machine_allows_exactly_the_documented_moves(from_status, to_status):
    assert ORDER_MACHINE.allows(from_status, to_status) == ((from_status, to_status) in LEGAL)


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_a_legal_move_changes_the_order_and_writes_its_audit_row(from_status, to_status):
    order = paid_order()
    # Put the order where the move starts (a test set-up, not a transition).
    Order.objects.filter(pk=order.pk).update(status=from_status)
    order.refresh_from_db()
    events = OrderStatusEvent.objects.filter(order=order).count()

    transition(ORDER_MACHINE, instance=order, to_status=to_status, message="test")

    order.refresh_from_db()
    assert order.status == to_status
    assert OrderStatusEvent.objects.filter(order=order).count() == events + 1
    last = OrderStatusEvent.objects.filter(order=order).latest("id")
    assert (last.from_status, last.to_status) == (from_status, to_status)


@pytest.mark.parametrize(
    ("from_status", "to_status"), [pair for pair in PAIRS if pair not in LEGAL]
)
def test_an_illegal_move_is_refused_and_writes_nothing(from_status, to_status):
    order = paid_order()
    Order.objects.filter(pk=order.pk).update(status=from_status)
    order.refresh_from_db()
    events = OrderStatusEvent.objects.filter(order=order).count()

    with pytest.raises(IllegalTransition):
        transition(ORDER_MACHINE, instance=order, to_status=to_status)

    order.refresh_from_db()
    assert order.status == from_status
    assert OrderStatusEvent.objects.filter(order=order).count() == events
