"""Reads of the ledger for platform staff (issue 12): the platform's commission per day, and the
reconciliation of ledger payouts against the gateway's transfers. Nothing here writes.

Reconciliation works from what the ledger knows (the `payout_created`, `payout_paid` and
`payout_failed` transactions, referenced `payout:<id>`, whose in-transit leg carries the amount
and names the seller) and from the local gateway's transfer rows (`LocalTransfer`, keyed
`transfer:payout:<id>` by the payout job, net of their reversals). The caller may add what the
payout rows say (`PayoutFacts`: status and the transfer id the gateway gave), which the ledger
cannot read itself (sellers sits above it), so a transfer is matched by payout id or by its id.
With the Stripe gateway the transfers live at Stripe: the report then lists the ledger side and
says the gateway side is not stored here.
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Case, F, IntegerField, Sum, When
from django.db.models.functions import TruncDate
from django.utils import timezone

from marketplace.ledger.models import LedgerEntry
from marketplace.money import Money

COMMISSION_EARNED_PREFIX = "platform:commission_earned:"
PAYOUT_KINDS = ("payout_created", "payout_paid", "payout_failed")
IN_TRANSIT = re.compile(r"^seller:(\d+):payout_in_transit:([A-Z]{3})$")
PAYOUT_REFERENCE = re.compile(r"^payout:(\d+)$")
PAYOUT_TRANSFER_KEY = re.compile(r"^transfer:payout:(\d+)$")


# --- Platform revenue --------------------------------------------------------------------------


@dataclass(frozen=True)
class RevenueDay:
    day: dt.date
    earned: Money  # commission that settled that day
    given_back: Money  # commission returned with refunds after settlement
    net: Money


@dataclass(frozen=True)
class RevenueReport:
    currency: str
    days: list[RevenueDay]  # every day of the period, oldest first, zeros included
    earned: Money
    given_back: Money
    net: Money

    @property
    def best_day(self) -> Money:
        return max((day.net for day in self.days), key=lambda m: m.amount_minor)


def commission_by_day(*, days: int = 90, today: dt.date | None = None) -> list[RevenueReport]:
    """The platform's commission earned per day over the last `days` days (today included), one
    report per currency that has any, from the entries on `platform:commission_earned:<cur>`:
    credits are commission settled, debits commission given back by refunds after settlement.
    Days are in the site's time zone. One aggregate query."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min))
    rows = (
        LedgerEntry.objects.filter(
            account__code__startswith=COMMISSION_EARNED_PREFIX,
            posted_at__gte=start,
            posted_at__lt=end,
        )
        .annotate(day=TruncDate("posted_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "currency")
        .annotate(
            earned=Sum(
                Case(When(amount_minor__lt=0, then=-F("amount_minor")), default=0),
                output_field=IntegerField(),
            ),
            given_back=Sum(
                Case(When(amount_minor__gt=0, then=F("amount_minor")), default=0),
                output_field=IntegerField(),
            ),
        )
    )
    by_currency: dict[str, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    for row in rows:
        by_currency[row["currency"]][row["day"]] = (row["earned"] or 0, row["given_back"] or 0)
    reports = []
    for currency in sorted(by_currency):
        found = by_currency[currency]
        report_days = []
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            earned, given_back = found.get(day, (0, 0))
            report_days.append(
                RevenueDay(
                    day=day,
                    earned=Money(earned, currency),
                    given_back=Money(given_back, currency),
                    net=Money(earned - given_back, currency),
                )
            )
        earned = sum(d.earned.amount_minor for d in report_days)
        given_back = sum(d.given_back.amount_minor for d in report_days)
        reports.append(
            RevenueReport(
                currency=currency,
                days=report_days,
                earned=Money(earned, currency),
                given_back=Money(given_back, currency),
                net=Money(earned - given_back, currency),
            )
        )
    return reports


# --- Payout reconciliation ---------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutFacts:
    """What a payout row says, passed in by the caller that may read it."""

    payout_id: int
    seller_id: int
    amount_minor: int
    currency: str
    status: str  # pending | in_transit | paid | failed
    gateway_transfer_id: str = ""
    label: str = ""  # the shop's name, for display


@dataclass
class ReconciliationRow:
    payout_id: int
    seller_id: int | None = None
    currency: str = ""
    label: str = ""
    payout_status: str = ""  # from the payout row, when given
    ledger_reserved_minor: int | None = None  # payout_created
    ledger_paid_minor: int | None = None  # payout_paid
    ledger_returned_minor: int | None = None  # payout_failed
    ledger_posted_at: dt.datetime | None = None
    transfer_id: str = ""
    transfer_minor: int | None = None  # net of reversals
    transfer_created_at: dt.datetime | None = None
    differences: list[str] = field(default_factory=list)

    def money(self, amount_minor: int | None) -> Money | None:
        return (
            None
            if amount_minor is None or not self.currency
            else Money(amount_minor, self.currency)
        )

    @property
    def ledger_state(self) -> str:
        if self.ledger_paid_minor is not None:
            return "paid"
        if self.ledger_returned_minor is not None:
            return "returned"
        if self.ledger_reserved_minor is not None:
            return "in transit"
        return "—"

    @property
    def ledger_amount(self) -> Money | None:
        return self.money(self.ledger_reserved_minor)

    @property
    def transfer_amount(self) -> Money | None:
        return self.money(self.transfer_minor)


@dataclass(frozen=True)
class Reconciliation:
    rows: list[ReconciliationRow]  # every payout seen, newest first
    gateway_checked: bool  # False when the gateway's transfers are not stored here (Stripe)
    since: dt.datetime

    @property
    def differences(self) -> list[ReconciliationRow]:
        return [row for row in self.rows if row.differences]

    @property
    def matched_count(self) -> int:
        return len(self.rows) - len(self.differences)


# Keys per IN (...) query when looking rows up by id: well under SQLite's variable limit.
CHUNK = 1000


def _chunks(values) -> list[list]:
    values = sorted(values)
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def _add_ledger_entries(rows: dict[int, "ReconciliationRow"], entries) -> None:
    for reference, kind, code, amount_minor, posted_at in entries:
        reference_match = PAYOUT_REFERENCE.match(reference)
        account_match = IN_TRANSIT.match(code)
        if not (reference_match and account_match):
            continue
        payout_id = int(reference_match.group(1))
        row = rows.setdefault(payout_id, ReconciliationRow(payout_id=payout_id))
        row.seller_id = int(account_match.group(1))
        row.currency = account_match.group(2)
        amount = abs(amount_minor)
        if kind == "payout_created":
            row.ledger_reserved_minor = (row.ledger_reserved_minor or 0) + amount
            row.ledger_posted_at = posted_at
        elif kind == "payout_paid":
            row.ledger_paid_minor = (row.ledger_paid_minor or 0) + amount
        else:
            row.ledger_returned_minor = (row.ledger_returned_minor or 0) + amount


def _ledger_payouts(since: dt.datetime, payout_ids: set[int]) -> dict[int, ReconciliationRow]:
    """Each payout's in-transit legs: reserved (created), paid and returned (failed), with the
    seller named by the account code. Every such leg posted since `since` (one indexed range
    scan), then, by reference, the legs of the few payouts that were left incomplete by the
    window's edge (reserved before it) or named in `payout_ids` without a leg in it."""
    in_transit = LedgerEntry.objects.filter(
        transaction__kind__in=PAYOUT_KINDS, account__code__contains=":payout_in_transit:"
    )
    fields = (
        "transaction__reference",
        "transaction__kind",
        "account__code",
        "amount_minor",
        "posted_at",
    )
    rows: dict[int, ReconciliationRow] = {}
    _add_ledger_entries(rows, in_transit.filter(posted_at__gte=since).values_list(*fields))
    incomplete = {pk for pk, row in rows.items() if row.ledger_reserved_minor is None}
    missing = incomplete | (set(payout_ids) - set(rows))
    if missing:
        # Start afresh for these: what the window held of them is read again, in full.
        for payout_id in incomplete:
            del rows[payout_id]
        for chunk in _chunks(missing):
            references = [f"payout:{pk}" for pk in chunk]
            _add_ledger_entries(
                rows, in_transit.filter(transaction__reference__in=references).values_list(*fields)
            )
    return rows


def _local_transfers(since: dt.datetime, payout_ids: set[int], transfer_ids: set[str]):
    """The local gateway's payout transfers: those made since `since`, plus those keyed for
    `payout_ids` or with `transfer_ids` that were made before, each with its amount net of
    reversals."""
    from marketplace.payments.models import LocalTransfer

    fields = (
        "external_id",
        "idempotency_key",
        "amount_minor",
        "currency",
        "reversed_minor",
        "created_at",
    )
    transfers = LocalTransfer.objects.annotate(reversed_minor=Sum("reversals__amount_minor"))
    found = list(
        transfers.filter(
            idempotency_key__startswith="transfer:payout:", created_at__gte=since
        ).values_list(*fields)
    )
    seen_keys = {row[1] for row in found}
    keys = {f"transfer:payout:{pk}" for pk in payout_ids} - seen_keys
    for chunk in _chunks(keys):
        found += transfers.filter(idempotency_key__in=chunk).values_list(*fields)
    seen_ids = {row[0] for row in found}
    for chunk in _chunks(set(transfer_ids) - seen_ids):
        found += transfers.filter(external_id__in=chunk).values_list(*fields)
    # A transfer found twice (by its key and by its id) counts once.
    return list({row[0]: row for row in found}.values())


def payout_reconciliation(
    *,
    since: dt.datetime | None = None,
    payouts: Mapping[int, PayoutFacts] | None = None,
) -> Reconciliation:
    """Ledger payouts against gateway transfers since `since` (default: 30 days ago), matched by
    payout id (the transfer's key `transfer:payout:<id>`) or by the transfer id the payout row
    holds. Each row lists its differences in words; a payout in transit with no transfer yet is
    not a difference (the job calls the gateway after reserving), a paid one is."""
    since = since or timezone.now() - dt.timedelta(days=30)
    payouts = dict(payouts or {})
    rows = _ledger_payouts(since, set(payouts))
    for facts in payouts.values():
        row = rows.setdefault(facts.payout_id, ReconciliationRow(payout_id=facts.payout_id))
        row.payout_status = facts.status
        row.label = facts.label
        row.seller_id = row.seller_id or facts.seller_id
        row.currency = row.currency or facts.currency
    gateway_checked = settings.PAYMENT_GATEWAY == "local"
    if gateway_checked:
        by_transfer_id = {
            facts.gateway_transfer_id: facts.payout_id
            for facts in payouts.values()
            if facts.gateway_transfer_id
        }
        transfers = _local_transfers(since, set(rows), set(by_transfer_id))
        for external_id, key, amount_minor, currency, reversed_minor, created_at in transfers:
            key_match = PAYOUT_TRANSFER_KEY.match(key)
            payout_id = by_transfer_id.get(external_id) or (
                int(key_match.group(1)) if key_match else None
            )
            if payout_id is None:
                continue
            row = rows.setdefault(payout_id, ReconciliationRow(payout_id=payout_id))
            if row.transfer_id:
                row.differences.append(f"More than one transfer: {row.transfer_id}, {external_id}.")
                continue
            row.transfer_id = external_id
            row.transfer_minor = amount_minor - (reversed_minor or 0)
            row.transfer_created_at = created_at
            row.currency = row.currency or currency
            if row.currency != currency:
                row.differences.append(
                    f"The transfer is in {currency}, the payout in {row.currency}."
                )
    for payout_id, row in rows.items():
        facts = payouts.get(payout_id)
        row.differences.extend(_differences(row, facts, gateway_checked=gateway_checked))
    ordered = sorted(rows.values(), key=lambda row: row.payout_id, reverse=True)
    return Reconciliation(rows=ordered, gateway_checked=gateway_checked, since=since)


def _differences(row: ReconciliationRow, facts: PayoutFacts | None, *, gateway_checked: bool):
    found = []
    in_ledger = row.ledger_reserved_minor is not None
    if not in_ledger:
        if row.transfer_id:
            found.append("A transfer with no payout in the ledger.")
        elif facts is not None:
            found.append("A payout with nothing in the ledger.")
    if row.ledger_paid_minor is not None and row.ledger_returned_minor is not None:
        found.append("Both paid and returned in the ledger.")
    if facts is not None:
        if in_ledger and facts.amount_minor != row.ledger_reserved_minor:
            found.append("The payout's amount differs from the ledger's.")
        if facts.status == "paid" and row.ledger_paid_minor is None:
            found.append("The payout is marked paid but the ledger has not paid it.")
        if facts.status != "paid" and row.ledger_paid_minor is not None:
            found.append(f"Paid in the ledger but the payout is {facts.status.replace('_', ' ')}.")
        if facts.status == "failed" and in_ledger and row.ledger_returned_minor is None:
            found.append("The payout failed but the ledger did not return the money.")
        if (
            facts.gateway_transfer_id
            and row.transfer_id
            and facts.gateway_transfer_id != row.transfer_id
        ):
            found.append("The payout names another transfer.")
    if gateway_checked:
        if row.ledger_paid_minor is not None and not row.transfer_id:
            found.append("Paid in the ledger with no transfer at the gateway.")
        if row.transfer_id and in_ledger:
            if row.ledger_returned_minor is not None:
                if row.transfer_minor:
                    found.append("Returned in the ledger, but the transfer was not reversed.")
            elif row.transfer_minor != row.ledger_reserved_minor:
                found.append("The transfer's amount differs from the ledger's.")
    return found
