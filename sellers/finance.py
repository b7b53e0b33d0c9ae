"""Reads for the Seller Center's Finance pages: balances, entries, statements, payouts.

Everything here reads the ledger (marketplace.ledger) and `Payout`; sellers never imports orders,
so an order appears only as the ledger's reference `seller-order:<id>`. Every function takes
`seller=` and reads only that seller's own accounts (their codes come from
marketplace.ledger.accounts), so another seller's money can never show.

Sign convention: ledger amounts are debits positive; the seller's pending, available and in
transit accounts are liabilities, shown with the sign flipped (money owed to the seller is
positive). The debt account is an asset (what the seller owes us), shown as it is.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from sellers.models import Payout

ORDER_REFERENCE_PREFIX = "seller-order:"
PAYOUT_REFERENCE_PREFIX = "payout:"

# Transaction kinds the journal posts for a seller (marketplace/ledger/journal.py).
KIND_ORDER_PAID = "order_paid"
KIND_ORDER_REFUNDED = "order_refunded"
KIND_ORDER_SETTLED = "order_settled"
KIND_PAYOUT_CREATED = "payout_created"
KIND_PAYOUT_PAID = "payout_paid"
KIND_PAYOUT_FAILED = "payout_failed"
KNOWN_KINDS = (
    KIND_ORDER_PAID,
    KIND_ORDER_REFUNDED,
    KIND_ORDER_SETTLED,
    KIND_PAYOUT_CREATED,
    KIND_PAYOUT_PAID,
    KIND_PAYOUT_FAILED,
)

# The seller's accounts, as the filter and the pages name them.
ACCOUNT_LABELS = {
    "pending": "Pending",
    "available": "Available",
    "in_transit": "Payout in transit",
    "debt": "Debt",
}

# What a seller reads for an entry: the type names of the Transactions page.
TYPE_LABELS = {
    "sale": "Sale",
    "refund": "Refund",
    "settlement": "Settlement",
    "debt_repaid": "Debt repaid",
    "payout": "Payout",
    "payout_returned": "Payout returned",
    "adjustment": "Adjustment",
}


def order_number(order_id: int) -> str:
    """The number people know an order by, from its id alone. It must read as orders'
    `Order.number` does (A and seven digits); sellers cannot import orders to ask it."""
    return f"A{order_id:07d}"


def seller_currency(*, seller) -> str:
    """The currency of the seller's balances: the marketplace's one currency in this version."""
    return settings.MARKETPLACE_CURRENCY


def finance_account_codes(*, seller, currency: str | None = None) -> dict[str, str]:
    """Account key (pending, available, in_transit, debt) -> ledger code, for this seller."""
    currency = currency or seller_currency(seller=seller)
    return {
        "pending": accounts.seller_pending(seller.pk, currency)[0],
        "available": accounts.seller_available(seller.pk, currency)[0],
        "in_transit": accounts.seller_payout_in_transit(seller.pk, currency)[0],
        "debt": accounts.seller_debt(seller.pk, currency)[0],
    }


def _shown(key: str, raw: int) -> int:
    """A raw balance or amount as the seller reads it (debt is an asset: as it is)."""
    return raw if key == "debt" else -raw


@dataclass(frozen=True)
class Balances:
    currency: str
    pending: int
    available: int
    in_transit: int
    debt: int
    paid_out: int
    # Platform commission on the seller's orders, less what refunds gave back.
    commission: int
    # What shoppers paid for the seller's orders, less refunds.
    sales: int


def finance_balances(*, seller) -> Balances:
    """The seller's balances from the ledger, in three queries whatever the history's size."""
    currency = seller_currency(seller=seller)
    codes = finance_account_codes(seller=seller, currency=currency)
    by_code = dict(
        LedgerEntry.objects.filter(account__code__in=codes.values())
        .values_list("account__code")
        .annotate(total=Sum("amount_minor"))
    )
    shown = {key: _shown(key, by_code.get(code, 0)) for key, code in codes.items()}
    paid_out = (
        LedgerEntry.objects.filter(
            account__code=codes["in_transit"], transaction__kind=KIND_PAYOUT_PAID
        ).aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    # The seller's orders: those whose payment credited this seller's pending account.
    order_references = LedgerTransaction.objects.filter(
        kind=KIND_ORDER_PAID, entries__account__code=codes["pending"]
    ).values("reference")
    totals = LedgerEntry.objects.filter(
        transaction__reference__in=order_references,
        transaction__kind__in=(KIND_ORDER_PAID, KIND_ORDER_REFUNDED),
    ).aggregate(
        commission=Sum(
            "amount_minor",
            filter=Q(
                account__code__in=(
                    accounts.platform_commission_pending(currency)[0],
                    accounts.platform_commission_earned(currency)[0],
                )
            ),
        ),
        sales=Sum("amount_minor", filter=Q(account__code=accounts.gateway_cash(currency)[0])),
    )
    return Balances(
        currency=currency,
        pending=shown["pending"],
        available=shown["available"],
        in_transit=shown["in_transit"],
        debt=shown["debt"],
        paid_out=paid_out,
        commission=-(totals["commission"] or 0),
        sales=totals["sales"] or 0,
    )


# --- Entries (the Transactions page and its CSV) ---------------------------------------------


def _type_conditions(codes: dict[str, str]) -> dict[str, Q]:
    return {
        "sale": Q(transaction__kind=KIND_ORDER_PAID),
        "refund": Q(transaction__kind=KIND_ORDER_REFUNDED),
        "settlement": Q(transaction__kind=KIND_ORDER_SETTLED) & ~Q(account__code=codes["debt"]),
        "debt_repaid": Q(transaction__kind=KIND_ORDER_SETTLED, account__code=codes["debt"]),
        "payout": Q(transaction__kind__in=(KIND_PAYOUT_CREATED, KIND_PAYOUT_PAID)),
        "payout_returned": Q(transaction__kind=KIND_PAYOUT_FAILED),
        "adjustment": ~Q(transaction__kind__in=KNOWN_KINDS),
    }


@dataclass(frozen=True)
class EntryFilters:
    type: str = ""  # a key of TYPE_LABELS, or "" for every type
    account: str = ""  # a key of ACCOUNT_LABELS, or ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def finance_entries(*, seller, filters: EntryFilters | None = None) -> QuerySet:
    """Every ledger entry on the seller's accounts, newest first, filtered."""
    filters = filters or EntryFilters()
    codes = finance_account_codes(seller=seller)
    entries = LedgerEntry.objects.filter(account__code__in=codes.values())
    if filters.account in codes:
        entries = entries.filter(account__code=codes[filters.account])
    conditions = _type_conditions(codes)
    if filters.type in conditions:
        entries = entries.filter(conditions[filters.type])
    if filters.date_from:
        entries = entries.filter(posted_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        entries = entries.filter(posted_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return entries.order_by("-posted_at", "-id")


@dataclass(frozen=True)
class EntryRow:
    """One entry as the seller reads it."""

    id: int
    posted_at: datetime
    type: str  # a key of TYPE_LABELS
    account: str  # a key of ACCOUNT_LABELS
    amount: int  # positive: the account's balance grew
    currency: str
    reference: str
    description: str  # why, for an adjustment
    order_id: int | None
    payout_id: int | None

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

    @property
    def account_label(self) -> str:
        return ACCOUNT_LABELS[self.account]

    @property
    def order_number(self) -> str:
        return order_number(self.order_id) if self.order_id is not None else ""


# The columns an entry row is built from: the page and the CSV read the same ones.
ENTRY_FIELDS = (
    "id",
    "posted_at",
    "amount_minor",
    "currency",
    "account__code",
    "transaction__kind",
    "transaction__reference",
    "transaction__description",
)


def _reference_id(reference: str, prefix: str) -> int | None:
    if reference.startswith(prefix):
        tail = reference[len(prefix) :]
        if tail.isdigit():
            return int(tail)
    return None


def entry_rows(values, *, seller):
    """EntryRow for each tuple of ENTRY_FIELDS (a generator: the CSV streams through it)."""
    keys_by_code = {code: key for key, code in finance_account_codes(seller=seller).items()}
    for pk, posted_at, amount, currency, code, kind, reference, description in values:
        account = keys_by_code[code]
        yield EntryRow(
            id=pk,
            posted_at=posted_at,
            type=entry_type(kind, account),
            account=account,
            amount=_shown(account, amount),
            currency=currency,
            reference=reference,
            description=description,
            order_id=_reference_id(reference, ORDER_REFERENCE_PREFIX),
            payout_id=_reference_id(reference, PAYOUT_REFERENCE_PREFIX),
        )


def entry_type(kind: str, account: str) -> str:
    """The type a seller reads for an entry of a transaction `kind` on its `account` key."""
    if kind == KIND_ORDER_SETTLED:
        return "debt_repaid" if account == "debt" else "settlement"
    return {
        KIND_ORDER_PAID: "sale",
        KIND_ORDER_REFUNDED: "refund",
        KIND_PAYOUT_CREATED: "payout",
        KIND_PAYOUT_PAID: "payout",
        KIND_PAYOUT_FAILED: "payout_returned",
    }.get(kind, "adjustment")


# --- Orders still pending -----------------------------------------------------------------------

# Who knows when an order's pending money is released: orders (it owns completion and the hold),
# which sits above sellers. It registers here in its AppConfig.ready, the way docs/architecture.md
# ("Dependencies and hook registries") has a lower app let a higher one answer. A provider takes
# order ids and answers {order id: when its money becomes available} for those it can date (an
# order not completed yet has no date).
ReleaseDateProvider = Callable[[list[int]], dict[int, datetime]]
_release_date_providers: list[ReleaseDateProvider] = []


def pending_release_dates_register(provider: ReleaseDateProvider) -> ReleaseDateProvider:
    if provider not in _release_date_providers:
        _release_date_providers.append(provider)
    return provider


@dataclass(frozen=True)
class PendingOrder:
    order_id: int
    amount: int  # still pending for the seller
    available_on: datetime | None  # None: not completed yet, so not known

    @property
    def order_number(self) -> str:
        return order_number(self.order_id)


def finance_pending_orders(*, seller, limit: int = 10) -> list[PendingOrder]:
    """The seller's orders whose money has not settled, oldest first, with the date it becomes
    available where the registered provider knows it: one aggregate over the pending account's
    entries by reference, plus what the providers read."""
    code = finance_account_codes(seller=seller)["pending"]
    rows = (
        LedgerEntry.objects.filter(
            account__code=code, transaction__reference__startswith=ORDER_REFERENCE_PREFIX
        )
        .values_list("transaction__reference")
        .annotate(total=Sum("amount_minor"), first=Min("posted_at"))
        .exclude(total=0)
        .order_by("first", "transaction__reference")
        .values_list("transaction__reference", "total")
    )
    found = []
    for reference, total in rows[:limit]:
        order_id = _reference_id(reference, ORDER_REFERENCE_PREFIX)
        if order_id is not None:
            found.append((order_id, -total))
    dates: dict[int, datetime] = {}
    for provider in _release_date_providers:
        dates.update(provider([order_id for order_id, _ in found]))
    return [
        PendingOrder(order_id=order_id, amount=amount, available_on=dates.get(order_id))
        for order_id, amount in found
    ]


# --- The 90-day chart ---------------------------------------------------------------------------


def finance_daily_available(*, seller, days: int = 90, today: date | None = None):
    """[(day, available balance at the end of that day)] for the last `days` days, oldest first:
    one aggregate for the balance before the window, one grouped by day inside it."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    code = finance_account_codes(seller=seller)["available"]
    entries = LedgerEntry.objects.filter(account__code=code)
    opening = -(
        entries.filter(posted_at__lt=_day_start(first)).aggregate(total=Sum("amount_minor"))[
            "total"
        ]
        or 0
    )
    moves = dict(
        entries.filter(posted_at__gte=_day_start(first))
        .annotate(day=TruncDate("posted_at"))
        .values_list("day")
        .annotate(total=Sum("amount_minor"))
    )
    series = []
    balance = opening
    for offset in range(days):
        day = first + timedelta(days=offset)
        balance -= moves.get(day, 0)
        series.append((day, balance))
    return series


@dataclass(frozen=True)
class Chart:
    """A server-side SVG line chart (the template draws it with presentation attributes only)."""

    width: int
    height: int
    points: str  # the polyline's points
    area: str  # the filled area's points
    zero_y: float
    max_value: int
    min_value: int
    first_day: date
    last_day: date
    last_value: int


def finance_chart(series: list[tuple[date, int]], *, width: int = 600, height: int = 160) -> Chart:
    values = [value for _, value in series]
    top = max(max(values, default=0), 0)
    bottom = min(min(values, default=0), 0)
    if top == bottom:
        top = bottom + 1  # a flat series (all zero) sits on the baseline, not at the top
    span = top - bottom
    pad = 8
    inner = height - 2 * pad
    step = width / max(len(series) - 1, 1)

    def y(value: int) -> float:
        return round(pad + (top - value) * inner / span, 1)

    points = " ".join(f"{round(i * step, 1)},{y(v)}" for i, v in enumerate(values))
    zero = y(0)
    area = f"0,{zero} {points} {round((len(values) - 1) * step, 1)},{zero}" if values else ""
    return Chart(
        width=width,
        height=height,
        points=points,
        area=area,
        zero_y=zero,
        max_value=top,
        min_value=bottom,
        first_day=series[0][0] if series else timezone.localdate(),
        last_day=series[-1][0] if series else timezone.localdate(),
        last_value=values[-1] if values else 0,
    )


# --- Statements ---------------------------------------------------------------------------------

PERIODS = {"daily": "Daily", "weekly": "Weekly"}


@dataclass
class StatementRow:
    """One period of the available balance: opening + every movement = closing."""

    start: date
    end: date  # inclusive
    opening: int = 0
    settled: int = 0  # orders settled into available (after any debt was repaid)
    refunds: int = 0  # refunds taken from available (negative)
    payouts: int = 0  # payouts taken from available (negative)
    payouts_returned: int = 0  # failed payouts back to available
    adjustments: int = 0
    closing: int = 0
    # The debt account, apart (not in available): what settlements or credits repaid, and what
    # refunds or debits that available could not cover added.
    debt_repaid: int = 0
    added_to_debt: int = 0


_STATEMENT_COLUMNS = {
    KIND_ORDER_SETTLED: "settled",
    KIND_ORDER_REFUNDED: "refunds",
    KIND_PAYOUT_CREATED: "payouts",
    KIND_PAYOUT_FAILED: "payouts_returned",
}


def finance_statements(*, seller, period: str = "daily") -> list[StatementRow]:
    """The available account's statement per day or week (Monday to Sunday), for every period
    with a movement, newest first. The first opening is zero and each closing is the next
    opening, so the newest closing is the account's ledger balance. One aggregate query (by
    period, account and kind) however many entries; debt movements are reported apart."""
    codes = finance_account_codes(seller=seller)
    trunc = TruncWeek if period == "weekly" else TruncDate
    length = timedelta(days=7 if period == "weekly" else 1)
    rows = (
        LedgerEntry.objects.filter(account__code__in=(codes["available"], codes["debt"]))
        .annotate(start=trunc("posted_at"))
        .values_list("start", "account__code", "transaction__kind")
        .annotate(
            total=Sum("amount_minor"),
            debits=Sum("amount_minor", filter=Q(amount_minor__gt=0)),
        )
        .order_by("start")
    )
    by_start: dict[date, StatementRow] = {}
    for start, code, kind, total, debits in rows:
        if isinstance(start, datetime):
            start = timezone.localtime(start).date() if timezone.is_aware(start) else start.date()
        row = by_start.get(start)
        if row is None:
            row = by_start[start] = StatementRow(start=start, end=start + length - timedelta(1))
        if code == codes["debt"]:
            # Debt is an asset: a debit adds to what the seller owes, a credit repays it.
            debits = debits or 0
            row.added_to_debt += debits
            row.debt_repaid += debits - total
            continue
        column = _STATEMENT_COLUMNS.get(kind, "adjustments")
        setattr(row, column, getattr(row, column) + _shown("available", total))
    balance = 0
    ordered = [by_start[start] for start in sorted(by_start)]
    for row in ordered:
        row.opening = balance
        balance += row.settled + row.refunds + row.payouts + row.payouts_returned
        balance += row.adjustments
        row.closing = balance
    ordered.reverse()
    return ordered


def statement_totals(rows: list[StatementRow]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        for name in (
            "settled",
            "refunds",
            "payouts",
            "payouts_returned",
            "adjustments",
            "debt_repaid",
            "added_to_debt",
        ):
            totals[name] += getattr(row, name)
    totals["closing"] = rows[0].closing if rows else 0
    return dict(totals)


# --- Payouts ------------------------------------------------------------------------------------


def finance_payouts(*, seller) -> QuerySet:
    """The seller's payouts, newest first."""
    return Payout.objects.filter(seller=seller).order_by("-created_at", "-id")
