"""The settlement journal for a whole batch (marketplace.ledger.journal.journal_orders_settled,
issue 12): what each order still holds in pending moves to available (debt first) and to
commission earned, once per order, in a fixed number of statements."""

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from marketplace.ledger import accounts
from marketplace.ledger.journal import (
    OrderSplit,
    SettlementItem,
    journal_order_paid,
    journal_order_refunded,
    journal_orders_settled,
    journal_seller_payout_created,
)
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import ledger_accounts_ensure, ledger_balance
from marketplace.money import Money

pytestmark = pytest.mark.django_db

_ids = iter(range(700_000, 800_000))


def paid(seller_id: int, total: int, commission: int, *, currency="USD", creator=None):
    """A paid seller order in the ledger only: its id and split."""
    order_id = next(_ids)
    split = OrderSplit(
        seller_id=seller_id,
        total=Money(total, currency),
        commission=Money(commission, currency),
        creator_id=creator[0] if creator else None,
        creator_commission=Money(creator[1], currency) if creator else None,
    )
    journal_order_paid(seller_order_id=order_id, split=split)
    return order_id, split


def item(order_id: int, split: OrderSplit) -> SettlementItem:
    return SettlementItem(
        seller_order_id=order_id,
        seller_id=split.seller_id,
        currency=split.total.currency,
        creator_id=split.creator_id,
    )


def balance(account) -> int:
    return ledger_balance(account).amount_minor


def assert_balanced():
    totals = LedgerEntry.objects.values("transaction_id").annotate(t=Sum("amount_minor"))
    assert {row["t"] for row in totals} <= {0}


def in_debt(seller_id: int, total=3000, commission=300) -> int:
    """Pay, settle and pay out an order, then refund it whole: the seller owes its net."""
    order_id, split = paid(seller_id, total, commission)
    journal_orders_settled([item(order_id, split)])
    journal_seller_payout_created(
        payout_id=next(_ids), seller_id=seller_id, amount=Money(total - commission, "USD")
    )
    journal_order_refunded(
        refund_id=next(_ids), seller_order_id=order_id, split=split, amount=Money(total, "USD")
    )
    owed = balance(accounts.seller_debt(seller_id, "USD"))
    assert owed == total - commission
    return owed


def test_a_batch_of_several_sellers_releases_each_order_once():
    orders = [paid(1, 1000, 100), paid(2, 2500, 250), paid(1, 999, 0)]

    settled = journal_orders_settled([item(*o) for o in orders])

    assert settled == [o[0] for o in orders]
    assert sorted(
        LedgerTransaction.objects.filter(kind="order_settled").values_list(
            "idempotency_key", "reference"
        )
    ) == sorted((f"order-settled:{pk}", f"seller-order:{pk}") for pk, _ in orders)
    assert balance(accounts.seller_available(1, "USD")) == 900 + 999
    assert balance(accounts.seller_available(2, "USD")) == 2250
    assert balance(accounts.seller_pending(1, "USD")) == 0
    assert balance(accounts.platform_commission_pending("USD")) == 0
    assert balance(accounts.platform_commission_earned("USD")) == 350
    # The order without commission posts no zero leg.
    zero_commission = LedgerTransaction.objects.get(idempotency_key=f"order-settled:{orders[2][0]}")
    assert zero_commission.entries.count() == 2
    assert_balanced()


def test_the_same_order_twice_in_a_batch_and_again_later_posts_once():
    order = paid(1, 1000, 100)

    assert journal_orders_settled([item(*order), item(*order)]) == [order[0]]
    assert journal_orders_settled([item(*order)]) == []

    assert LedgerTransaction.objects.filter(kind="order_settled").count() == 1
    assert balance(accounts.seller_available(1, "USD")) == 900


def test_a_batch_with_settled_and_new_orders_posts_only_the_new():
    old = paid(1, 1000, 100)
    journal_orders_settled([item(*old)])
    new = paid(1, 2000, 200)

    assert journal_orders_settled([item(*old), item(*new)]) == [new[0]]

    assert balance(accounts.seller_available(1, "USD")) == 900 + 1800


def test_an_order_refunded_in_full_before_settlement_is_skipped():
    refunded = paid(1, 1000, 100)
    journal_order_refunded(
        refund_id=next(_ids),
        seller_order_id=refunded[0],
        split=refunded[1],
        amount=Money(1000, "USD"),
    )
    kept = paid(1, 500, 50)

    assert journal_orders_settled([item(*refunded), item(*kept)]) == [kept[0]]
    assert not LedgerTransaction.objects.filter(
        idempotency_key=f"order-settled:{refunded[0]}"
    ).exists()
    assert balance(accounts.seller_available(1, "USD")) == 450


def test_a_partial_refund_before_settlement_leaves_the_rest_to_release():
    order_id, split = paid(1, 1000, 100)
    journal_order_refunded(
        refund_id=next(_ids), seller_order_id=order_id, split=split, amount=Money(400, "USD")
    )

    journal_orders_settled([item(order_id, split)])

    assert balance(accounts.seller_available(1, "USD")) == 540  # 900 less 360
    assert balance(accounts.platform_commission_earned("USD")) == 60  # 100 less 40
    assert balance(accounts.seller_pending(1, "USD")) == 0
    assert balance(accounts.platform_commission_pending("USD")) == 0


def test_a_debt_is_repaid_first_in_the_batch_order_and_only_once():
    owed = in_debt(1)  # 2700
    orders = [paid(1, 1000, 100), paid(1, 1000, 100), paid(1, 1000, 100), paid(1, 1000, 100)]

    journal_orders_settled([item(*o) for o in orders])

    assert balance(accounts.seller_debt(1, "USD")) == 0
    assert balance(accounts.seller_available(1, "USD")) == 4 * 900 - owed
    to_debt = [
        -(
            LedgerEntry.objects.filter(
                transaction__idempotency_key=f"order-settled:{pk}",
                account__code=accounts.seller_debt(1, "USD")[0],
            ).aggregate(t=Sum("amount_minor"))["t"]
            or 0
        )
        for pk, _ in orders
    ]
    assert to_debt == [900, 900, 900, 0]
    assert_balanced()


def test_two_sellers_in_debt_in_one_batch_each_repay_their_own():
    owed_1 = in_debt(1, 3000, 300)  # 2700
    owed_2 = in_debt(2, 1000, 100)  # 900
    orders = [paid(2, 500, 50), paid(1, 2000, 200), paid(2, 800, 80), paid(1, 2000, 200)]

    journal_orders_settled([item(*o) for o in orders])

    assert balance(accounts.seller_debt(1, "USD")) == 0
    assert balance(accounts.seller_available(1, "USD")) == 3600 - owed_1
    assert balance(accounts.seller_debt(2, "USD")) == 0
    assert balance(accounts.seller_available(2, "USD")) == 450 + 720 - owed_2
    assert_balanced()


def test_the_creators_commission_moves_to_the_creators_available():
    order = paid(1, 10000, 1000, creator=(42, 500))

    journal_orders_settled([item(*order)])

    assert balance(accounts.creator_pending(42, "USD")) == 0
    assert balance(accounts.creator_available(42, "USD")) == 500
    assert balance(accounts.seller_available(1, "USD")) == 8500
    assert balance(accounts.platform_commission_earned("USD")) == 1000


def test_orders_in_two_currencies_settle_into_their_own_accounts():
    dollars = paid(1, 1000, 100)
    euros = paid(1, 2000, 200, currency="EUR")

    journal_orders_settled([item(*dollars), item(*euros)])

    assert balance(accounts.seller_available(1, "USD")) == 900
    assert balance(accounts.seller_available(1, "EUR")) == 1800
    assert balance(accounts.platform_commission_earned("EUR")) == 200


def test_a_refund_after_the_batch_comes_from_available_not_pending():
    order_id, split = paid(1, 1000, 100)
    journal_orders_settled([item(order_id, split)])

    journal_order_refunded(
        refund_id=next(_ids), seller_order_id=order_id, split=split, amount=Money(1000, "USD")
    )

    assert balance(accounts.seller_available(1, "USD")) == 0
    assert balance(accounts.seller_pending(1, "USD")) == 0
    assert balance(accounts.platform_commission_earned("USD")) == 0


def _queries(count: int) -> int:
    orders = [paid(seller_id, 1000 + i, 100) for i, seller_id in enumerate([5, 6] * (count // 2))]
    # The accounts exist already (created on the first settlement of each seller): the count
    # compared is that of the steady state.
    ledger_accounts_ensure(
        [accounts.seller_available(s, "USD") for s in (5, 6)]
        + [accounts.seller_debt(s, "USD") for s in (5, 6)]
        + [accounts.platform_commission_earned("USD")]
    )
    with CaptureQueriesContext(connection) as captured:
        assert len(journal_orders_settled([item(*o) for o in orders])) == count
    return len(captured.captured_queries)


def test_the_number_of_statements_does_not_depend_on_the_batch_size():
    assert _queries(2) == _queries(40)
