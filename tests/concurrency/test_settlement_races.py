"""Two settlement jobs at once, with real threads on PostgreSQL: each due order settles once (one
`order-settled:<id>` per order) and every seller's available balance is exact."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_balance
from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order, OrderStatus
from orders.services.settlement import orders_settle_due
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.orders.factories import order_with_lines
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def completed_order(seller, price_minor: int, *, completed_at) -> Order:
    order = order_with_lines(seller, (price_minor, 1))
    for step in (
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    ):
        transition(ORDER_MACHINE, instance=order, to_status=step)
    Order.objects.filter(pk=order.pk).update(completed_at=completed_at)
    order.refresh_from_db()
    return order


@pytest.mark.parametrize("batch_size", [7, 1000])
def test_two_settlement_jobs_at_once_settle_each_order_once(batch_size):
    now = timezone.now()
    sellers = [ApprovedSellerFactory() for _ in range(10)]
    orders = [
        completed_order(sellers[i % 10], 1000 + 37 * i, completed_at=now - timedelta(days=8))
        for i in range(50)
    ]

    results = run_at_once(2, lambda i: orders_settle_due(now=now, batch_size=batch_size))

    assert sum(results) == 50
    keys = Counter(
        LedgerTransaction.objects.filter(kind="order_settled").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == Counter({f"order-settled:{o.pk}": 1 for o in orders})
    assert not Order.objects.filter(settled_at__isnull=True).exists()
    for seller in sellers:
        expected = sum(
            o.total_minor - o.commission_minor for o in orders if o.seller_id == seller.pk
        )
        assert ledger_balance(accounts.seller_available(seller.pk, "USD")).amount_minor == expected
        assert ledger_balance(accounts.seller_pending(seller.pk, "USD")).amount_minor == 0
    assert ledger_balance(accounts.platform_commission_earned("USD")).amount_minor == sum(
        o.commission_minor for o in orders
    )
    unbalanced = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(total=Sum("amount_minor"), legs=Count("id"))
        .exclude(total=0)
    )
    assert list(unbalanced) == []


def test_three_jobs_at_once_with_small_batches_split_the_queue():
    """Many small batches claimed with SKIP LOCKED by three workers: still once each, and a
    later run finds nothing left."""
    now = timezone.now()
    sellers = [ApprovedSellerFactory() for _ in range(3)]
    orders = [
        completed_order(sellers[i % 3], 2000 + i, completed_at=now - timedelta(days=9))
        for i in range(12)
    ]

    results = run_at_once(3, lambda i: orders_settle_due(now=now, batch_size=2))

    assert sum(results) == 12
    assert LedgerTransaction.objects.filter(kind="order_settled").count() == 12
    assert orders_settle_due(now=now) == 0
    for seller in sellers:
        expected = sum(
            o.total_minor - o.commission_minor for o in orders if o.seller_id == seller.pk
        )
        assert ledger_balance(accounts.seller_available(seller.pk, "USD")).amount_minor == expected
