"""Random sequences of payments, refunds, settlements and payouts never break the ledger's
invariants (docs/architecture.md, "Money and the ledger")."""

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.journal import (
    InsufficientBalance,
    OrderSplit,
    journal_order_paid,
    journal_order_refunded,
    journal_order_settled,
    journal_seller_payout_created,
    journal_seller_payout_failed,
    journal_seller_payout_paid,
)
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_balance, ledger_raw_balance
from marketplace.money import Money

pytestmark = pytest.mark.django_db

SELLERS = [1, 2]
CREATOR = 7


def usd(minor):
    return Money(minor, "USD")


def split_for(order_id, total, commission_bps, creator_bps):
    seller_id = SELLERS[order_id % len(SELLERS)]
    total_money = usd(total)
    has_creator = creator_bps > 0
    return OrderSplit(
        seller_id=seller_id,
        total=total_money,
        commission=total_money.percentage(commission_bps),
        creator_id=CREATOR if has_creator else None,
        creator_commission=total_money.percentage(creator_bps) if has_creator else None,
    )


operation = st.one_of(
    st.tuples(
        st.just("pay"),
        st.integers(1, 100_000),
        st.integers(0, 2_000),
        st.sampled_from([0, 0, 100, 1_500]),
    ),
    st.tuples(st.just("refund"), st.integers(0, 9), st.integers(1, 100_000)),
    st.tuples(st.just("settle"), st.integers(0, 9)),
    st.tuples(st.just("payout"), st.sampled_from(SELLERS), st.integers(1, 100_000)),
    st.tuples(st.just("payout_result"), st.integers(0, 9), st.booleans()),
)


def check_invariants(settled_to_seller, paid_out_to_seller):
    # Every transaction balances per currency, and so the whole ledger does.
    for ledger_transaction in LedgerTransaction.objects.prefetch_related("entries"):
        totals = defaultdict(int)
        for entry in ledger_transaction.entries.all():
            totals[entry.currency] += entry.amount_minor
        assert not any(totals.values()), ledger_transaction
    assert (LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] or 0) == 0
    for seller_id in SELLERS:
        available = ledger_balance(accounts.seller_available(seller_id, "USD"))
        debt = ledger_balance(accounts.seller_debt(seller_id, "USD"))
        # A seller's available balance never goes below zero: the shortfall is explicit debt.
        assert available.amount_minor >= 0
        assert debt.amount_minor >= 0
        # Payouts never exceed what settled to the seller.
        assert paid_out_to_seller[seller_id] <= settled_to_seller[seller_id]
    # Any balance equals the sum of its entries, computed independently.
    for code in LedgerEntry.objects.values_list("account__code", flat=True).distinct():
        python_sum = sum(
            LedgerEntry.objects.filter(account__code=code).values_list("amount_minor", flat=True)
        )
        assert ledger_raw_balance(code) == python_sum


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operation, min_size=1, max_size=25))
def test_random_money_movements_keep_every_invariant(operations):
    with transaction.atomic():
        orders = {}
        payouts = {}
        settled_to_seller = defaultdict(int)
        paid_out_to_seller = defaultdict(int)
        refund_ids = iter(range(1, 10_000))
        for op in operations:
            kind = op[0]
            if kind == "pay":
                order_id = len(orders)
                orders[order_id] = split_for(order_id, *op[1:])
                journal_order_paid(seller_order_id=order_id, split=orders[order_id])
            elif kind == "refund" and op[1] in orders:
                split = orders[op[1]]
                try:
                    journal_order_refunded(
                        refund_id=next(refund_ids),
                        seller_order_id=op[1],
                        split=split,
                        amount=usd(min(op[2], split.total.amount_minor)),
                    )
                except DomainError as error:
                    assert error.code == "refund_too_large"
            elif kind == "settle" and op[1] in orders:
                split = orders[op[1]]
                before = ledger_raw_balance(accounts.seller_pending(split.seller_id, "USD")[0])
                journal_order_settled(seller_order_id=op[1], split=split)
                after = ledger_raw_balance(accounts.seller_pending(split.seller_id, "USD")[0])
                settled_to_seller[split.seller_id] += after - before
            elif kind == "payout":
                payout_id = len(payouts)
                try:
                    journal_seller_payout_created(
                        payout_id=payout_id, seller_id=op[1], amount=usd(op[2])
                    )
                except InsufficientBalance:
                    continue
                payouts[payout_id] = (op[1], usd(op[2]), None)
            elif kind == "payout_result" and op[1] in payouts and payouts[op[1]][2] is None:
                seller_id, amount, _ = payouts[op[1]]
                if op[2]:
                    journal_seller_payout_paid(payout_id=op[1], seller_id=seller_id, amount=amount)
                    paid_out_to_seller[seller_id] += amount.amount_minor
                else:
                    journal_seller_payout_failed(
                        payout_id=op[1], seller_id=seller_id, amount=amount
                    )
                payouts[op[1]] = (seller_id, amount, "paid" if op[2] else "failed")
            check_invariants(settled_to_seller, paid_out_to_seller)
        transaction.set_rollback(True)


def test_a_refund_after_settlement_beyond_the_balance_becomes_debt_that_the_next_settlement_pays():
    first = OrderSplit(seller_id=1, total=usd(10_000), commission=usd(200))
    second = OrderSplit(seller_id=1, total=usd(5_000), commission=usd(100))
    journal_order_paid(seller_order_id=1, split=first)
    journal_order_settled(seller_order_id=1, split=first)
    journal_seller_payout_created(payout_id=1, seller_id=1, amount=usd(9_000))

    journal_order_refunded(refund_id=1, seller_order_id=1, split=first, amount=usd(10_000))

    assert ledger_balance(accounts.seller_available(1, "USD")) == usd(0)
    assert ledger_balance(accounts.seller_debt(1, "USD")) == usd(9_000)
    assert ledger_balance(accounts.platform_commission_earned("USD")) == usd(0)

    journal_order_paid(seller_order_id=2, split=second)
    journal_order_settled(seller_order_id=2, split=second)

    assert ledger_balance(accounts.seller_debt(1, "USD")) == usd(4_100)
    assert ledger_balance(accounts.seller_available(1, "USD")) == usd(0)


def test_a_refund_before_settlement_returns_the_commission_pro_rata():
    split = OrderSplit(
        seller_id=1,
        total=usd(1_025),
        commission=usd(21),
        creator_id=CREATOR,
        creator_commission=usd(102),
    )
    journal_order_paid(seller_order_id=1, split=split)

    journal_order_refunded(refund_id=1, seller_order_id=1, split=split, amount=usd(500))

    # 500 split over (902, 21, 102) by largest remainder: 440, 10, 50 (exact 440.00, 10.24, 49.76).
    assert ledger_balance(accounts.seller_pending(1, "USD")) == usd(902 - 440)
    assert ledger_balance(accounts.platform_commission_pending("USD")) == usd(21 - 10)
    assert ledger_balance(accounts.creator_pending(CREATOR, "USD")) == usd(102 - 50)
    assert ledger_balance(accounts.gateway_cash("USD")) == usd(525)


def test_a_payout_above_the_available_balance_is_refused_and_writes_nothing():
    split = OrderSplit(seller_id=1, total=usd(1_000), commission=usd(20))
    journal_order_paid(seller_order_id=1, split=split)
    journal_order_settled(seller_order_id=1, split=split)
    count = LedgerTransaction.objects.count()

    with pytest.raises(InsufficientBalance, match=r"exceeds the available balance of \$9\.80"):
        journal_seller_payout_created(payout_id=1, seller_id=1, amount=usd(981))
    assert LedgerTransaction.objects.count() == count


def test_every_journal_call_is_idempotent():
    split = OrderSplit(seller_id=1, total=usd(1_000), commission=usd(20))
    for _ in range(2):
        journal_order_paid(seller_order_id=1, split=split)
        journal_order_refunded(refund_id=1, seller_order_id=1, split=split, amount=usd(100))
        journal_order_settled(seller_order_id=1, split=split)
        journal_seller_payout_created(payout_id=1, seller_id=1, amount=usd(500))
        journal_seller_payout_paid(payout_id=1, seller_id=1, amount=usd(500))

    assert LedgerTransaction.objects.count() == 5
    assert ledger_balance(accounts.seller_available(1, "USD")) == usd(882 - 500)
