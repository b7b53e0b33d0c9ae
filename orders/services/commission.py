"""The platform's commission on a seller order (docs/architecture.md, "Commission rule").

The rate of a line is its product's category rate: the most specific category on the product's
path (itself first, then its parents) that has a CategoryCommission in force (the latest
`effective_from` not after now) wins; with none, settings.PLATFORM_COMMISSION_BPS.

Rounding: computed once per seller order. The order's merchandise lines are grouped by rate and
the commission is the sum over rates of `percentage_of(sum of the line totals at that rate, rate)`;
when every line shares one rate (the usual case) that is exactly one percentage of the order's
merchandise subtotal. Shipping carries no commission.
"""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings

from catalog.selectors import CategoryTree, category_tree
from marketplace.money import percentage_of
from orders.models import CategoryCommission


class CommissionRates:
    """Rates for any category: one query for the rates in force, one for the tree when any."""

    def __init__(self, *, now: datetime, tree: CategoryTree | None = None):
        self._tree = tree
        self.default_bps = settings.PLATFORM_COMMISSION_BPS
        self.by_category: dict[int, int] = {}
        # Ordered oldest first so the latest start in force overwrites the earlier ones.
        rows = (
            CategoryCommission.objects.filter(effective_from__lte=now)
            .order_by("effective_from", "id")
            .values_list("category_id", "rate_bps")
        )
        for category_id, rate_bps in rows:
            self.by_category[category_id] = rate_bps

    @property
    def tree(self) -> CategoryTree:
        if self._tree is None:
            self._tree = category_tree()
        return self._tree

    def rate_for_category(self, category_id: int) -> int:
        if not self.by_category:  # no overrides in force: skip reading the tree
            return self.default_bps
        for node in reversed(self.tree.path(category_id)):
            if node.id in self.by_category:
                return self.by_category[node.id]
        return self.default_bps


def commission_rate_for_category(*, category_id: int, now: datetime) -> int:
    return CommissionRates(now=now).rate_for_category(category_id)


def commission_for_lines(lines: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """(commission_minor, rate_bps) for a seller order's (line_total_minor, rate_bps) pairs.

    rate_bps is the shared rate when all lines have one, else the effective rate rounded down
    (for display only: the amount is what counts)."""
    totals_by_rate: dict[int, int] = {}
    for line_total_minor, rate_bps in lines:
        totals_by_rate[rate_bps] = totals_by_rate.get(rate_bps, 0) + line_total_minor
    commission = sum(percentage_of(total, rate) for rate, total in totals_by_rate.items())
    if len(totals_by_rate) == 1:
        return commission, next(iter(totals_by_rate))
    subtotal = sum(totals_by_rate.values())
    return commission, (commission * 10_000 // subtotal) if subtotal else 0
