"""Random runs of partial refunds over an order never give back more than was paid
(orders.services.refunds.refund_issue, the one owner of refunds): per line in units and money,
per order in money, shipping only with the last of the order; a refund too large is refused
with nothing written; the ledger balances after every step and, once everything went back,
the order's postings net to zero for the seller, the commission and the cash."""

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from orders.models import Refund, RefundLine, RefundReason
from orders.services.refunds import (
    RefundLineInput,
    RefundTooLarge,
    refund_issue,
    refund_whole_order_lines,
)
from tests.orders.factories import ShippingTemplateFactory, order_with_lines

pytestmark = pytest.mark.django_db

NOT_A_LINE = 10**9

order_lines = st.lists(st.tuples(st.integers(1, 20_000), st.integers(1, 4)), min_size=1, max_size=3)
ITEM_MODES = [
    *["fit"] * 8,
    "all",
    "all",
    "all",
    "too_many_units",
    "too_much_money",
    "empty",
    "negative",
]


def draw_item(data, pk: int, units_left: int, amount_left: int) -> RefundLineInput:
    """One line of a refund: mostly within what is left, sometimes beyond it on purpose."""
    mode = data.draw(st.sampled_from(ITEM_MODES))
    quantity = data.draw(st.integers(0, units_left))
    amount = data.draw(st.integers(min(1, amount_left), amount_left))
    if mode == "all":
        quantity, amount = units_left, amount_left
    elif mode == "too_many_units":
        quantity = units_left + data.draw(st.integers(1, 2))
    elif mode == "too_much_money":
        amount = amount_left + data.draw(st.integers(1, 500))
    elif mode == "empty":
        quantity = amount = 0
    elif mode == "negative":
        amount = -1
    return RefundLineInput(order_line_id=pk, quantity=quantity, amount_minor=amount)


class Expected:
    """What is left to refund, kept by the test independently of the code under test."""

    def __init__(self, order):
        self.shipping = order.shipping_minor
        self.shipping_refunded = 0
        self.units = {line.pk: line.quantity for line in order.lines.all()}
        self.amount = {line.pk: line.line_total_minor for line in order.lines.all()}

    def outcome(self, items: list[RefundLineInput]) -> tuple[int, int] | None:
        """(amount, shipping) of the refund, or None when it must be refused."""
        asked = {}
        for item in items:
            if item.order_line_id not in self.units or item.order_line_id in asked:
                return None
            if item.quantity < 0 or item.amount_minor < 0:
                return None
            if not (item.quantity or item.amount_minor):
                return None
            if item.quantity > self.units[item.order_line_id]:
                return None
            if item.amount_minor > self.amount[item.order_line_id]:
                return None
            asked[item.order_line_id] = item
        merchandise = sum(item.amount_minor for item in asked.values())
        whole = all(
            left == (asked[pk].amount_minor if pk in asked else 0)
            for pk, left in self.amount.items()
        )
        shipping = self.shipping - self.shipping_refunded if whole else 0
        if merchandise + shipping <= 0:
            return None
        return merchandise + shipping, shipping

    def record(self, items: list[RefundLineInput], shipping: int) -> None:
        for item in items:
            self.units[item.order_line_id] -= item.quantity
            self.amount[item.order_line_id] -= item.amount_minor
        self.shipping_refunded += shipping


def written() -> tuple[int, int, int, int]:
    return (
        Refund.objects.count(),
        RefundLine.objects.count(),
        LedgerTransaction.objects.count(),
        LedgerEntry.objects.count(),
    )


def order_nets(order) -> dict[str, int]:
    """Each account's net over the order's postings (raw: debits positive)."""
    rows = (
        LedgerEntry.objects.filter(transaction__reference=f"seller-order:{order.pk}")
        .values("account__code")
        .annotate(net=Sum("amount_minor"))
    )
    return {row["account__code"]: row["net"] for row in rows}


def check_invariants(order, expected: Expected) -> None:
    # Per line: never more units nor more money than the line.
    for line in order.lines.all():
        done = RefundLine.objects.filter(order_line=line).aggregate(
            units=Sum("quantity"), amount=Sum("amount_minor")
        )
        assert (done["units"] or 0) <= line.quantity
        assert (done["amount"] or 0) <= line.line_total_minor
        assert line.quantity - (done["units"] or 0) == expected.units[line.pk]
        assert line.line_total_minor - (done["amount"] or 0) == expected.amount[line.pk]
    # Per order: never more than the total, shipping at most once.
    refunds = Refund.objects.filter(order=order).aggregate(
        amount=Sum("amount_minor"), shipping=Sum("shipping_minor")
    )
    assert (refunds["amount"] or 0) <= order.total_minor
    assert (refunds["shipping"] or 0) == expected.shipping_refunded <= order.shipping_minor
    for refund in Refund.objects.filter(order=order):
        lines = refund.lines.aggregate(s=Sum("amount_minor"))["s"] or 0
        assert refund.amount_minor == lines + refund.shipping_minor
    # Every posting balances per currency.
    for posting in LedgerTransaction.objects.prefetch_related("entries"):
        totals = defaultdict(int)
        for entry in posting.entries.all():
            totals[entry.currency] += entry.amount_minor
        assert not any(totals.values()), posting
    # The order's accounts never give back more than the payment put in.
    nets = order_nets(order)
    seller = accounts.seller_pending(order.seller_id, order.currency)[0]
    commission = accounts.platform_commission_pending(order.currency)[0]
    cash = accounts.gateway_cash(order.currency)[0]
    assert -(order.total_minor - order.commission_minor) <= nets.get(seller, 0) <= 0
    assert -order.commission_minor <= nets.get(commission, 0) <= 0
    assert 0 <= nets.get(cash, 0) == order.total_minor - (refunds["amount"] or 0)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=order_lines,
    shipping_fee=st.sampled_from([0, 499, 500, 1250]),
    steps=st.integers(1, 6),
    data=st.data(),
)
def test_random_partial_refunds_never_exceed_what_was_paid(
    seller, lines, shipping_fee, steps, data
):
    with transaction.atomic():
        ShippingTemplateFactory(
            seller=seller, flat_fee_minor=shipping_fee, free_shipping_threshold_minor=None
        )
        order = order_with_lines(seller, *lines)
        assert order.shipping_minor == shipping_fee
        expected = Expected(order)
        check_invariants(order, expected)

        for step in range(steps):
            pks = data.draw(
                st.lists(st.sampled_from(sorted(expected.units)), min_size=1, unique=True)
            )
            items = [draw_item(data, pk, expected.units[pk], expected.amount[pk]) for pk in pks]
            oddity = data.draw(st.integers(0, 19))
            if oddity == 0:  # a line of no order of this one
                items.append(RefundLineInput(order_line_id=NOT_A_LINE, quantity=1, amount_minor=1))
            elif oddity == 1:  # the same line twice in one refund
                items.append(items[0])
            outcome = expected.outcome(items)
            before = written()

            event("refused" if outcome is None else "refunded")
            if outcome is None:
                with pytest.raises(RefundTooLarge):
                    refund_issue(
                        order=order,
                        lines=items,
                        idempotency_key=f"test:{order.pk}:{step}",
                        reason=RefundReason.RETURN,
                    )
                assert written() == before
            else:
                refund = refund_issue(
                    order=order,
                    lines=items,
                    idempotency_key=f"test:{order.pk}:{step}",
                    reason=RefundReason.RETURN,
                )
                assert (refund.amount_minor, refund.shipping_minor) == outcome
                expected.record(items, outcome[1])
            check_invariants(order, expected)

        event(f"shipping refunded by the random steps: {expected.shipping_refunded > 0}")
        # Then everything left goes back: the order's postings net to zero everywhere.
        if any(expected.amount.values()):
            rest = refund_whole_order_lines(order)
            refund = refund_issue(
                order=order, lines=rest, idempotency_key=f"test:{order.pk}:rest", reason="return"
            )
            expected.record(rest, refund.shipping_minor)
            check_invariants(order, expected)
        assert expected.shipping_refunded == order.shipping_minor
        assert not any(expected.amount.values())
        assert {code: net for code, net in order_nets(order).items() if net} == {}
        transaction.set_rollback(True)


def test_the_same_key_again_answers_with_the_first_refund_and_writes_nothing(seller):
    order = order_with_lines(seller, (2500, 2))
    line = order.lines.get()
    item = RefundLineInput(order_line_id=line.pk, quantity=1, amount_minor=2500)
    first = refund_issue(order=order, lines=[item], idempotency_key="k", reason="return")
    before = written()

    again = refund_issue(order=order, lines=[item], idempotency_key="k", reason="return")

    assert again == first
    assert written() == before
