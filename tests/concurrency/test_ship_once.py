"""Shipping at once, with real threads on PostgreSQL: two submits of one order's ship form give one
set of shipments and one answer each (shipped, or "already shipped"), and two release jobs move
each order once."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from marketplace.notifications.models import Notification
from orders.models import Order, OrderStatus, OrderStatusEvent, Shipment, ShipmentLine
from orders.services.fulfilment import orders_release_for_shipment
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.orders.factories import order_with_lines, ready_to_ship
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def owner_clients(seller, count: int) -> list[Client]:
    clients = []
    for _ in range(count):
        client = Client()
        client.force_login(seller.owner)
        clients.append(client)
    return clients


@pytest.mark.parametrize(
    "numbers",
    [("DP0000000001", "DP0000000001"), ("DP0000000001", "DP0000000002")],
    ids=["same tracking number", "different tracking numbers"],
)
def test_two_concurrent_ship_submits_ship_the_order_once(numbers):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 2), (500, 1))
    clients = owner_clients(seller, 2)
    url = reverse("seller_orders:ship", args=[order.pk])

    responses = run_at_once(
        2,
        lambda i: clients[i].post(url, {"carrier_1": "demo", "tracking_number_1": numbers[i]}),
    )

    assert sorted(response.status_code for response in responses) == [302, 400]
    refused = next(response for response in responses if response.status_code == 400)
    assert "already" in refused.content.decode()
    shipment = Shipment.objects.get(order=order)
    assert ShipmentLine.objects.filter(shipment=shipment).count() == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_COLLECTION
    assert (
        OrderStatusEvent.objects.filter(
            order=order, to_status=OrderStatus.AWAITING_COLLECTION
        ).count()
        == 1
    )
    assert Notification.objects.filter(kind="order.shipped.buyer").count() == 1


def test_two_release_jobs_at_once_move_each_order_once():
    seller = ApprovedSellerFactory()
    orders = [order_with_lines(seller) for _ in range(5)]
    now = timezone.now() + timedelta(hours=2)

    results = run_at_once(4, lambda i: orders_release_for_shipment(now=now))

    assert sorted(pk for moved in results for pk in moved) == sorted(o.pk for o in orders)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.AWAITING_SHIPMENT}
    assert OrderStatusEvent.objects.filter(to_status=OrderStatus.AWAITING_SHIPMENT).count() == len(
        orders
    )
