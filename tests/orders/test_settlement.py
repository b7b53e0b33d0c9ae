"""The settlement job (orders.services.settlement, issue 12): completed orders past the hold
release their money to the seller (available, debt repaid first) and the platform (commission
earned), batch after batch, once."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.journal import journal_order_settled, journal_seller_payout_created
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_balance
from marketplace.money import Money
from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order, OrderStatus
from orders.services.deadlines import order_confirm_receipt
from orders.services.refunds import (
    order_split,
    refund_issue,
    refund_whole_order_lines,
)
from orders.services.settlement import orders_settle_due
from tests.celery_worker import celery_worker_process
from tests.orders.factories import order_with_lines
from tests.returns.factories import delivered_order
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
HOLD = timedelta(days=7)


def completed_order(seller, price_minor=2500, *, completed_at, quantity=1) -> Order:
    """A paid order of `seller` moved to completed (each step through the state machine) at
    `completed_at`."""
    order = order_with_lines(seller, (price_minor, quantity))
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


def due(seller, price_minor=2500, *, days=10, quantity=1) -> Order:
    return completed_order(
        seller, price_minor, completed_at=NOW - timedelta(days=days), quantity=quantity
    )


def net(order: Order) -> int:
    return order.total_minor - order.commission_minor


def available(seller) -> int:
    return ledger_balance(accounts.seller_available(seller.pk, "USD")).amount_minor


def pending(seller) -> int:
    return ledger_balance(accounts.seller_pending(seller.pk, "USD")).amount_minor


def debt(seller) -> int:
    return ledger_balance(accounts.seller_debt(seller.pk, "USD")).amount_minor


def commission(kind: str) -> int:
    account = getattr(accounts, f"platform_commission_{kind}")("USD")
    return ledger_balance(account).amount_minor


def settled_keys() -> list[str]:
    return sorted(
        LedgerTransaction.objects.filter(kind="order_settled").values_list(
            "idempotency_key", flat=True
        )
    )


def assert_every_transaction_balances():
    unbalanced = (
        LedgerEntry.objects.values("transaction_id")
        .annotate(total=Sum("amount_minor"))
        .exclude(total=0)
    )
    assert list(unbalanced) == []


def refund_everything(order: Order, key: str):
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        return refund_issue(
            order=locked,
            lines=refund_whole_order_lines(locked),
            idempotency_key=key,
            reason="return",
        )


# --- Which orders are due ------------------------------------------------------------------------


def test_orders_completed_before_the_hold_settle_and_those_inside_it_wait(seller):
    old = completed_order(seller, completed_at=NOW - HOLD - timedelta(minutes=1))
    exactly = completed_order(seller, completed_at=NOW - HOLD)
    recent = completed_order(seller, completed_at=NOW - HOLD + timedelta(minutes=1))

    assert orders_settle_due(now=NOW) == 2

    stamped = dict(Order.objects.values_list("pk", "settled_at"))
    assert stamped == {old.pk: NOW, exactly.pk: NOW, recent.pk: None}
    assert settled_keys() == sorted([f"order-settled:{old.pk}", f"order-settled:{exactly.pk}"])
    assert available(seller) == net(old) + net(exactly)
    assert pending(seller) == net(recent)

    # A day later the recent one is due as well.
    assert orders_settle_due(now=NOW + timedelta(days=1)) == 1
    assert available(seller) == net(old) + net(exactly) + net(recent)
    assert pending(seller) == 0


def test_the_hold_comes_from_the_setting(seller, settings):
    settings.SETTLEMENT_HOLD_DAYS = 14
    order = due(seller, days=10)

    assert orders_settle_due(now=NOW) == 0
    assert orders_settle_due(now=NOW + timedelta(days=4)) == 1
    order.refresh_from_db()
    assert order.settled_at == NOW + timedelta(days=4)


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
    ],
)
def test_orders_that_are_not_completed_never_settle(seller, status):
    order = order_with_lines(seller)
    path = [OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED]
    for step in path[: path.index(status) + 1] if status != OrderStatus.ON_HOLD else []:
        transition(ORDER_MACHINE, instance=order, to_status=step)
    # Even with a completion date long past (it never completed), nothing moves.
    Order.objects.filter(pk=order.pk).update(completed_at=NOW - timedelta(days=30))

    assert orders_settle_due(now=NOW) == 0

    order.refresh_from_db()
    assert order.status == status
    assert order.settled_at is None
    assert settled_keys() == []
    assert pending(seller) == net(order)
    assert available(seller) == 0


# --- Once -----------------------------------------------------------------------------------------


def test_a_rerun_settles_nothing_more_and_posts_nothing_more(seller):
    orders = [due(seller, 1000 * (i + 1)) for i in range(3)]
    assert orders_settle_due(now=NOW) == 3
    transactions = LedgerTransaction.objects.count()
    entries = LedgerEntry.objects.count()
    balance = available(seller)

    assert orders_settle_due(now=NOW) == 0
    assert orders_settle_due(now=NOW + timedelta(days=30)) == 0

    assert LedgerTransaction.objects.count() == transactions
    assert LedgerEntry.objects.count() == entries
    assert available(seller) == balance == sum(net(o) for o in orders)
    assert settled_keys() == sorted(f"order-settled:{o.pk}" for o in orders)


def test_an_order_settled_by_the_journal_before_is_stamped_but_not_posted_again(seller):
    order = due(seller)
    journal_order_settled(seller_order_id=order.pk, split=order_split(order))
    entries = LedgerEntry.objects.count()

    assert orders_settle_due(now=NOW) == 1

    order.refresh_from_db()
    assert order.settled_at == NOW
    assert LedgerEntry.objects.count() == entries
    assert available(seller) == net(order)


# --- Batches --------------------------------------------------------------------------------------


def test_batches_of_two_over_five_orders_settle_all_in_three_batches(seller, monkeypatch):
    from orders.services import settlement

    orders = [due(seller, 1000 + i, days=10 + i) for i in range(5)]
    sizes = []
    real = settlement.journal_orders_settled

    def spy(items, **kwargs):
        sizes.append([item.seller_order_id for item in items])
        return real(items, **kwargs)

    monkeypatch.setattr(settlement, "journal_orders_settled", spy)

    assert orders_settle_due(now=NOW, batch_size=2) == 5

    # Oldest first: the order completed 14 days ago, then 13...
    oldest_first = [o.pk for o in reversed(orders)]
    assert sizes == [oldest_first[0:2], oldest_first[2:4], oldest_first[4:5]]
    assert not Order.objects.filter(settled_at__isnull=True).exists()
    assert available(seller) == sum(net(o) for o in orders)


def test_the_batch_size_comes_from_the_setting(seller, settings, monkeypatch):
    from orders.services import settlement

    settings.SETTLEMENT_BATCH_SIZE = 2
    for _ in range(3):
        due(seller)
    calls = []
    real = settlement._settle_batch
    monkeypatch.setattr(
        settlement,
        "_settle_batch",
        lambda **kwargs: calls.append(kwargs["batch_size"]) or real(**kwargs),
    )

    assert orders_settle_due(now=NOW) == 3
    assert calls == [2, 2, 2]  # 2 + 1, then an empty batch ends the run


# The queries of one batch and of the empty batch that ends the run, the same for 3 orders as for
# 30 (each run from the same start: three sellers with no settled money yet).
QUERIES_OF_ONE_BATCH = 21


@pytest.mark.parametrize("count", [3, 30])
def test_the_queries_of_one_batch_do_not_grow_with_its_size(django_assert_num_queries, count):
    sellers = [ApprovedSellerFactory() for _ in range(3)]
    for i in range(count):
        due(sellers[i % 3], 1000 + i)

    with django_assert_num_queries(QUERIES_OF_ONE_BATCH):
        assert orders_settle_due(now=NOW, batch_size=count) == count

    assert not Order.objects.filter(settled_at__isnull=True).exists()


# --- Debt, refunds, commission --------------------------------------------------------------------


def _seller_in_debt(seller) -> int:
    """Settle an order, pay the balance out, then refund the order in full: the seller owes the
    platform its net. Returns the debt."""
    first = due(seller, 3000, days=20)
    assert orders_settle_due(now=NOW - timedelta(days=5)) == 1
    journal_seller_payout_created(
        payout_id=990001, seller_id=seller.pk, amount=Money(available(seller), "USD")
    )
    assert available(seller) == 0
    refund_everything(first, "refund-first")
    assert debt(seller) == net(first)
    return net(first)


def test_a_seller_in_debt_repays_it_first_from_the_next_settlement(seller):
    owed = _seller_in_debt(seller)
    order = due(seller, 10000)
    assert net(order) > owed

    assert orders_settle_due(now=NOW) == 1

    assert debt(seller) == 0
    assert available(seller) == net(order) - owed
    assert_every_transaction_balances()


def test_a_debt_larger_than_one_order_is_consumed_once_across_a_batch(seller):
    owed = _seller_in_debt(seller)  # 3000 less commission
    orders = [due(seller, 1000, days=10 + i) for i in range(5)]
    assert net(orders[0]) < owed < sum(net(o) for o in orders)

    assert orders_settle_due(now=NOW) == 5

    assert debt(seller) == 0
    # Once, not once per order: what is available is everything released less the debt.
    assert available(seller) == sum(net(o) for o in orders) - owed
    to_debt = -(
        LedgerEntry.objects.filter(
            transaction__kind="order_settled",
            account__code=accounts.seller_debt(seller.pk, "USD")[0],
        ).aggregate(total=Sum("amount_minor"))["total"]
    )
    assert to_debt == owed
    assert_every_transaction_balances()


def test_a_debt_larger_than_the_whole_batch_stays_for_the_rest(seller):
    owed = _seller_in_debt(seller)
    order = due(seller, 1000)
    assert net(order) < owed

    assert orders_settle_due(now=NOW) == 1

    assert debt(seller) == owed - net(order)
    assert available(seller) == 0


def test_a_fully_refunded_order_is_stamped_with_nothing_posted(seller):
    refunded = due(seller, 4000)
    kept = due(seller, 2000)
    refund_everything(refunded, "return-everything")
    assert pending(seller) == net(kept)

    assert orders_settle_due(now=NOW) == 2

    refunded.refresh_from_db()
    assert refunded.settled_at == NOW
    assert settled_keys() == [f"order-settled:{kept.pk}"]
    assert available(seller) == net(kept)
    assert pending(seller) == 0
    assert commission("pending") == 0


def test_a_partly_refunded_order_releases_what_is_left(seller):
    order = due(seller, 2000, quantity=3)  # 3 x $20.00
    line = order.lines.get()
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        from orders.services.refunds import RefundLineInput

        refund_issue(
            order=locked,
            lines=[RefundLineInput(order_line_id=line.pk, quantity=1, amount_minor=2000)],
            idempotency_key="one-unit",
            reason="return",
        )
    left = pending(seller)
    commission_left = commission("pending")
    assert 0 < left < net(order)

    assert orders_settle_due(now=NOW) == 1

    assert available(seller) == left
    assert pending(seller) == 0
    assert commission("pending") == 0
    assert commission("earned") == commission_left


def test_commission_moves_from_pending_to_earned_exactly(seller):
    other = ApprovedSellerFactory()
    orders = [due(seller, 2500), due(seller, 1999, quantity=3), due(other, 12345)]
    later = due(other, 5000, days=1)  # not due yet
    paid_commission = sum(o.commission_minor for o in [*orders, later])
    assert commission("pending") == paid_commission > 0

    orders_settle_due(now=NOW)

    assert commission("earned") == sum(o.commission_minor for o in orders)
    assert commission("pending") == later.commission_minor
    assert available(seller) == net(orders[0]) + net(orders[1])
    assert available(other) == net(orders[2])
    assert_every_transaction_balances()


def test_every_settlement_transaction_balances_and_is_posted_at_now(seller):
    for i in range(4):
        due(ApprovedSellerFactory() if i % 2 else seller, 1500 + i)

    orders_settle_due(now=NOW)

    assert_every_transaction_balances()
    assert set(
        LedgerTransaction.objects.filter(kind="order_settled").values_list("posted_at", flat=True)
    ) == {NOW}
    assert set(
        LedgerEntry.objects.filter(transaction__kind="order_settled").values_list(
            "posted_at", flat=True
        )
    ) == {NOW}


# --- The task on a real worker ----------------------------------------------------------------


def wait_for(condition, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_settlement_task_on_a_real_worker_settles_due_orders_once(seller):
    from marketplace import celery_app
    from marketplace.models import JobHeartbeat
    from marketplace.tasks import record_job_heartbeat
    from orders.tasks import settle_due_orders

    now = timezone.now()
    orders = [
        completed_order(seller, 1000 * (i + 1), completed_at=now - timedelta(days=8))
        for i in range(3)
    ]
    recent = completed_order(seller, completed_at=now - timedelta(days=1))
    with celery_worker_process() as queue:
        celery_app.conf.task_always_eager = False  # send it to the broker, not inline
        try:
            settle_due_orders.apply_async(queue=queue)
            assert wait_for(
                lambda: (
                    not Order.objects.filter(
                        pk__in=[o.pk for o in orders], settled_at__isnull=True
                    ).exists()
                )
            ), "the worker did not settle the orders within 60 s"
            settle_due_orders.apply_async(queue=queue)
            record_job_heartbeat.apply_async(args=["settlement-test-marker"], queue=queue)
        finally:
            celery_app.conf.task_always_eager = True
        assert wait_for(lambda: JobHeartbeat.objects.filter(name="settlement-test-marker").exists())
    assert settled_keys() == sorted(f"order-settled:{o.pk}" for o in orders)
    assert available(seller) == sum(net(o) for o in orders)
    assert Order.objects.get(pk=recent.pk).settled_at is None


def test_an_order_with_a_return_open_waits_to_settle(seller):
    """Settling it would pay out money the open return may take back."""
    from returns.services.requests import return_request_create

    order = delivered_order(seller, (2500, 1))
    order_confirm_receipt(order_id=order.pk, buyer=order.buyer)
    line = order.lines.get()
    return_request_create(
        order_id=order.pk,
        buyer=order.buyer,
        kind="refund_only",
        reason="damaged",
        quantities={line.pk: 1},
    )

    assert orders_settle_due(now=timezone.now() + timedelta(days=8)) == 0
    order.refresh_from_db()
    assert order.settled_at is None
