"""The deadline jobs on two workers at once, with real threads on PostgreSQL: each late order is
cancelled once with one violation, and each delivered order completes once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order, OrderCancellation, OrderStatus, OrderStatusEvent, Refund
from orders.services.deadlines import orders_auto_complete, orders_cancel_missed_ship_by
from sellers.models import Violation
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.orders.factories import order_in

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def test_two_missed_ship_by_jobs_at_once_cancel_each_order_once():
    now = timezone.now()
    late = [
        order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=now - timedelta(hours=1)) for _ in range(4)
    ]

    results = run_at_once(2, lambda i: orders_cancel_missed_ship_by(now=now))

    assert sorted(pk for moved in results for pk in moved) == sorted(o.pk for o in late)
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELLED}
    assert OrderCancellation.objects.count() == len(late)
    assert Refund.objects.count() == len(late)
    assert Violation.objects.count() == len(late)
    assert OrderStatusEvent.objects.filter(to_status=OrderStatus.CANCELLED).count() == len(late)


def test_two_auto_complete_jobs_at_once_complete_each_order_once():
    now = timezone.now()
    delivered = [
        order_in(OrderStatus.DELIVERED, delivered_at=now - timedelta(days=8)) for _ in range(4)
    ]

    results = run_at_once(2, lambda i: orders_auto_complete(now=now))

    assert sorted(pk for moved in results for pk in moved) == sorted(o.pk for o in delivered)
    assert OrderStatusEvent.objects.filter(to_status=OrderStatus.COMPLETED).count() == 4
