"""Assertions about orders that several test modules share."""

from django.db.models import Sum

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from orders.models import Order, Refund


def refund_transaction(refund: Refund) -> LedgerTransaction:
    """The ledger posting of `refund`."""
    return LedgerTransaction.objects.get(idempotency_key=f"order-refunded:{refund.pk}")


def assert_refunded_in_full(order: Order):
    """One refund of the order's total, its ledger posting balanced and giving every share back:
    the order's seller pending and commission pending hold nothing from it any more."""
    refund = Refund.objects.get(order=order)
    assert refund.amount_minor == order.total_minor
    posting = refund_transaction(refund)
    entries = list(posting.entries.select_related("account"))
    assert sum(entry.amount_minor for entry in entries) == 0
    by_code = {entry.account.code: entry.amount_minor for entry in entries}
    cash = accounts.gateway_cash(order.currency)[0]
    assert by_code[cash] == -order.total_minor
    assert by_code[accounts.seller_pending(order.seller_id, order.currency)[0]] == (
        order.total_minor - order.commission_minor
    )
    if order.commission_minor:
        assert (
            by_code[accounts.platform_commission_pending(order.currency)[0]]
            == order.commission_minor
        )
    # Paid then refunded: what the buyer paid for this order came back, every party net zero.
    reference = f"seller-order:{order.pk}"
    assert posting.reference == reference
    for code in by_code:
        net = LedgerEntry.objects.filter(
            transaction__reference=reference, account__code=code
        ).aggregate(total=Sum("amount_minor"))["total"]
        assert net == 0, code
