"""Settlement: a completed order's money becomes the seller's to be paid out
(docs/architecture.md, "Money and the ledger").

`orders_settle_due` (orders.tasks.settle_due_orders, every 30 minutes) takes the orders completed
at least SETTLEMENT_HOLD_DAYS ago and not settled yet, SETTLEMENT_BATCH_SIZE at a time, oldest
first (an order with a return or dispute still open waits until it closes), and settles each batch in one transaction with a fixed number of statements whatever its
size (marketplace.ledger.journal.journal_orders_settled: what each order still holds in pending
moves to available for the seller, debt repaid first, and to commission earned for the
platform), then stamps the orders `settled_at` in one UPDATE. Safe to rerun (settled orders are
not picked again, and each order's ledger key posts once) and with two workers at once (on
PostgreSQL each claims its batch with SKIP LOCKED, so they split the queue; SQLite runs one
writer at a time).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marketplace.ledger.journal import SettlementItem, journal_orders_settled
from orders.models import Order, OrderStatus
from orders.services.deadlines import open_after_sales_condition


def orders_settle_due(*, now: datetime | None = None, batch_size: int | None = None) -> int:
    """Settle every order due by `now`, batch after batch. Returns how many orders were
    settled (those fully refunded before settlement are stamped too: nothing was left)."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SETTLEMENT_BATCH_SIZE
    cutoff = now - timedelta(days=settings.SETTLEMENT_HOLD_DAYS)
    settled = 0
    while True:
        count = _settle_batch(cutoff=cutoff, now=now, batch_size=batch_size)
        if not count:
            return settled
        settled += count


def _settle_batch(*, cutoff: datetime, now: datetime, batch_size: int) -> int:
    with transaction.atomic():
        # An order with a return still open waits: settling it would pay out money the return
        # may take back (orders.services.deadlines owns what counts as open).
        due = (
            Order.objects.filter(
                status=OrderStatus.COMPLETED, settled_at__isnull=True, completed_at__lte=cutoff
            )
            .filter(~open_after_sales_condition())
            .order_by("completed_at", "id")
        )
        if connection.features.has_select_for_update_skip_locked:
            # Another worker's batch is skipped, not waited for nor settled twice.
            due = due.select_for_update(skip_locked=True)
        rows = list(due.values_list("id", "seller_id", "currency")[:batch_size])
        if not rows:
            return 0
        journal_orders_settled(
            [
                SettlementItem(seller_order_id=pk, seller_id=seller_id, currency=currency)
                for pk, seller_id, currency in rows
            ],
            posted_at=now,
        )
        Order.objects.filter(pk__in=[pk for pk, _, _ in rows]).update(settled_at=now)
    return len(rows)
