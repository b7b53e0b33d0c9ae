import pytest
from django.urls import reverse

from marketplace.errors import DomainError, IllegalTransition
from orders.models import CartLine, Order, OrderStatus, OrderStatusEvent
from orders.services.transitions import order_transition
from tests.orders.factories import buyable_sku, paid_order

pytestmark = pytest.mark.django_db


def test_an_order_moves_along_the_table_with_an_audit_row():
    order = paid_order()
    order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT, message="Accepted.")
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    assert OrderStatusEvent.objects.filter(order=order).last().message == "Accepted."


def test_an_illegal_move_is_refused_and_writes_nothing():
    order = paid_order()
    events = OrderStatusEvent.objects.count()
    with pytest.raises(IllegalTransition):
        order_transition(order=order, to_status=OrderStatus.DELIVERED)
    order.refresh_from_db()
    assert order.status == OrderStatus.ON_HOLD
    assert OrderStatusEvent.objects.count() == events


def test_a_stale_copy_cannot_move_an_order_twice():
    order = paid_order()
    stale = Order.objects.get(id=order.id)
    order_transition(order=order, to_status=OrderStatus.CANCELLED)
    events = OrderStatusEvent.objects.count()
    with pytest.raises(DomainError):
        order_transition(order=stale, to_status=OrderStatus.AWAITING_SHIPMENT)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert OrderStatusEvent.objects.count() == events


def test_signing_up_keeps_the_anonymous_cart(client):
    sku = buyable_sku()
    client.post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 1})
    client.post(
        reverse("accounts:sign_up"),
        {
            "full_name": "New Shopper",
            "email": "new@example.com",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
        },
    )
    assert CartLine.objects.get().cart.user.email == "new@example.com"
