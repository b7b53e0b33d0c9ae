"""Payouts: a seller's available balance paid to its payout account
(docs/architecture.md, "Money and the ledger" and "Background jobs").

`payouts_run` (sellers.tasks.run_payouts, daily, or staff on demand) does two things:
1. `payouts_create_due`: every seller whose payout account is payout-enabled, who owes nothing
   (seller debt zero), has no payout pending or in transit, and whose available balance reaches
   PAYOUT_MINIMUM_MINOR gets one Payout for the whole available balance. The balances of all the
   candidates come from one aggregate query; then each payout is created in its own short
   transaction with its idempotency key (`transfer:payout:<id>`) and the ledger move available ->
   in transit (`payout-created:<id>`, which locks the available account and refuses more than it
   holds). When two runs meet, the partial unique index (one payout in flight per seller) has the
   last word: the loser skips that seller.
2. `payout_send` for every pending payout (new ones and those a crash left behind), at most
   PAYOUT_GATEWAY_CALLS_PER_SECOND a second: the gateway is called holding no lock and no
   transaction, with the stored key, so a redelivered job (a worker killed with kill -9) gets the
   first transfer back instead of a second one, and each ledger key posts once.

Outcomes: the local gateway's transfer is final when it returns, so the payout goes in transit ->
paid at once, in the same service. With Stripe the transfer lands on the seller's connected
account and the webhooks decide (sellers.webhooks): `transfer.reversed`/`transfer.failed` fail
the payout (money back to available, the seller told why), `payout.paid` on the connected account
marks its payouts in transit paid. The gateway protocol has no way to look a transfer up, so
there is no reconciliation poll: `payouts_reconcile` only lists the payouts in transit for too
long, for staff to look at.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from marketplace.errors import DomainError, IllegalTransition
from marketplace.ledger import accounts
from marketplace.ledger.journal import (
    InsufficientBalance,
    journal_seller_payout_created,
    journal_seller_payout_failed,
    journal_seller_payout_paid,
)
from marketplace.ledger.models import LedgerEntry
from marketplace.money import Money
from marketplace.notifications.services import notify
from marketplace.payments.gateway import GatewayError, GatewayUnavailable, get_gateway
from marketplace.state import transition
from sellers.models import PAYOUT_MACHINE, Payout, PayoutAccount

logger = logging.getLogger(__name__)

IN_FLIGHT = (Payout.Status.PENDING, Payout.Status.IN_TRANSIT)
# payouts_reconcile: a payout in transit longer than this is listed for staff.
RECONCILE_AFTER = timedelta(minutes=60)


class PayoutNotPossible(DomainError):
    code = "payout_not_possible"


# --- Creating the payouts that are due ----------------------------------------------------------


def _balances(seller_ids: list[int], currency: str) -> dict[str, int]:
    """Raw balances of the candidates' available and debt accounts, in one aggregate query."""
    codes = []
    for seller_id in seller_ids:
        codes.append(accounts.seller_available(seller_id, currency)[0])
        codes.append(accounts.seller_debt(seller_id, currency)[0])
    rows = (
        LedgerEntry.objects.filter(account__code__in=codes)
        .values_list("account__code")
        .annotate(total=Sum("amount_minor"))
    )
    return dict(rows)


def payouts_create_due(
    *, now: datetime | None = None, requested_by=None, seller_ids=None, currency: str = ""
) -> list[int]:
    """Create the payouts due now (optionally only for `seller_ids`); returns their ids."""
    now = now or timezone.now()
    currency = currency or settings.MARKETPLACE_CURRENCY
    candidates = PayoutAccount.objects.filter(payouts_enabled=True).exclude(
        seller__payouts__status__in=IN_FLIGHT
    )
    if seller_ids is not None:
        candidates = candidates.filter(seller_id__in=list(seller_ids))
    destinations = dict(candidates.order_by("seller_id").values_list("seller_id", "external_id"))
    if not destinations:
        return []
    balances = _balances(list(destinations), currency)
    created = []
    for seller_id, destination in destinations.items():
        available = -balances.get(accounts.seller_available(seller_id, currency)[0], 0)
        debt = balances.get(accounts.seller_debt(seller_id, currency)[0], 0)
        if debt != 0 or available < settings.PAYOUT_MINIMUM_MINOR:
            continue
        payout_id = _payout_create(
            seller_id=seller_id,
            amount=Money(available, currency),
            destination=destination,
            requested_by=requested_by,
            now=now,
        )
        if payout_id is not None:
            created.append(payout_id)
    return created


def _payout_create(*, seller_id, amount: Money, destination, requested_by, now) -> int | None:
    """One payout and its ledger reservation in one transaction; None when another run got there
    first (the one-in-flight index) or the balance moved meanwhile (the journal's check)."""
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                seller_id=seller_id,
                amount_minor=amount.amount_minor,
                currency=amount.currency,
                destination=destination,
                requested_by=requested_by,
                created_at=now,
            )
            # Stored before any gateway call, in the transaction that creates the row.
            payout.idempotency_key = f"transfer:payout:{payout.pk}"
            payout.save(update_fields=["idempotency_key"])
            journal_seller_payout_created(payout_id=payout.pk, seller_id=seller_id, amount=amount)
    except IntegrityError:
        logger.info("Payout for seller %s skipped: another run created one.", seller_id)
        return None
    except InsufficientBalance:
        logger.info("Payout for seller %s skipped: the available balance moved.", seller_id)
        return None
    return payout.pk


# --- Sending ------------------------------------------------------------------------------------


def payout_send(*, payout_id: int, now: datetime | None = None) -> Payout:
    """Ask the gateway for the transfer of a pending payout; anything else is returned as is.
    Call it outside any transaction: no lock is held while the gateway answers."""
    payout = Payout.objects.select_related("seller").get(pk=payout_id)
    if payout.status != Payout.Status.PENDING:
        return payout
    if not payout.idempotency_key:
        # Every payout made here has one from its first transaction; a row written another way
        # gets it stored before the gateway hears of it.
        payout.idempotency_key = f"transfer:payout:{payout.pk}"
        Payout.objects.filter(pk=payout.pk, idempotency_key__isnull=True).update(
            idempotency_key=payout.idempotency_key
        )
    Payout.objects.filter(pk=payout.pk).update(attempts=F("attempts") + 1)
    gateway = get_gateway()
    try:
        result = gateway.transfer_create(
            amount_minor=payout.amount_minor,
            currency=payout.currency,
            destination=payout.destination,
            source_transaction="",
            transfer_group=f"payout-{payout.pk}",
            idempotency_key=payout.idempotency_key,
        )
    except GatewayUnavailable as error:
        # It may or may not have happened: stays pending, the next run asks again with the key.
        logger.warning("Payout %s: gateway unavailable (%s); left pending.", payout.pk, error)
        payout.refresh_from_db()
        return payout
    except GatewayError as error:
        return payout_mark_failed(payout_id=payout.pk, reason=str(error), now=now)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            transition(
                PAYOUT_MACHINE,
                pk=payout.pk,
                from_status=Payout.Status.PENDING,
                to_status=Payout.Status.IN_TRANSIT,
                fields={"gateway_transfer_id": result.id, "sent_at": now},
                now=now,
            )
            if gateway.name == "local":
                # The local gateway's transfer is final the moment it returns (there is no bank
                # behind it and no webhook will come), so the payout is paid in the same
                # transaction. With Stripe, payout.paid / transfer.reversed decide (webhooks).
                _mark_paid(payout, now=now)
    except IllegalTransition:
        # A concurrent send of the same payout recorded the same transfer first (same key, same
        # transfer). A payout failed meanwhile while its transfer exists must not pass quietly:
        # the money was sent; staff must look at it.
        payout.refresh_from_db()
        if payout.status == Payout.Status.FAILED:
            logger.error(
                "Payout %s is marked failed but its transfer %s exists: check it by hand.",
                payout.pk,
                result.id,
            )
    payout.refresh_from_db()
    return payout


def _mark_paid(payout: Payout, *, now) -> None:
    transition(
        PAYOUT_MACHINE,
        pk=payout.pk,
        from_status=Payout.Status.IN_TRANSIT,
        to_status=Payout.Status.PAID,
        fields={"paid_at": now},
        now=now,
    )
    journal_seller_payout_paid(
        payout_id=payout.pk,
        seller_id=payout.seller_id,
        amount=Money(payout.amount_minor, payout.currency),
    )


def payout_mark_paid(*, payout_id: int, now: datetime | None = None) -> Payout:
    """The gateway confirmed the money reached the seller: in transit -> paid, and the ledger's
    in transit -> cash out. A payout already paid is returned as is."""
    now = now or timezone.now()
    payout = Payout.objects.get(pk=payout_id)
    if payout.status == Payout.Status.PAID:
        return payout
    with transaction.atomic():
        _mark_paid(payout, now=now)
    payout.refresh_from_db()
    return payout


def payout_mark_failed(*, payout_id: int, reason: str, now: datetime | None = None) -> Payout:
    """The transfer was refused or returned: pending/in transit -> failed with the reason, the
    money back to the seller's available balance, and the seller told why. A payout already
    failed is returned as is; a paid one raises IllegalTransition."""
    now = now or timezone.now()
    payout = Payout.objects.select_related("seller").get(pk=payout_id)
    if payout.status == Payout.Status.FAILED:
        return payout
    reason = (reason or "The payment provider refused the transfer.")[:300]
    try:
        with transaction.atomic():
            transition(
                PAYOUT_MACHINE,
                pk=payout.pk,
                from_status=[Payout.Status.PENDING, Payout.Status.IN_TRANSIT],
                to_status=Payout.Status.FAILED,
                fields={"failure_reason": reason, "failed_at": now},
                now=now,
            )
            amount = Money(payout.amount_minor, payout.currency)
            journal_seller_payout_failed(
                payout_id=payout.pk, seller_id=payout.seller_id, amount=amount
            )
            notify(
                kind="seller.payout_failed",
                key=f"payout-failed:{payout.pk}",
                to_email=payout.seller.contact_email,
                about=f"payout:{payout.pk}",
                subject_template="sellers/email/payout_failed_subject.txt",
                body_template="sellers/email/payout_failed.txt",
                context={
                    "shop_name": payout.seller.shop_name,
                    "payout_id": payout.pk,
                    "amount": str(amount),
                    "reason": reason,
                },
            )
    except IllegalTransition:
        payout.refresh_from_db()
        if payout.status != Payout.Status.FAILED:
            raise
    payout.refresh_from_db()
    return payout


# --- The run ------------------------------------------------------------------------------------


@dataclass
class RateLimiter:
    """At most `per_second` calls a second: `wait()` before each call sleeps as long as needed.
    The clock and the sleep are injectable so tests need not wait."""

    per_second: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _next_at: float | None = field(default=None, init=False)

    def wait(self) -> None:
        if self.per_second <= 0:
            return
        now = self.clock()
        if self._next_at is not None and now < self._next_at:
            self.sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + 1.0 / self.per_second


def payouts_run(
    *,
    now: datetime | None = None,
    requested_by=None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> dict[str, int]:
    """Create the payouts due, then send every pending one (oldest first, including those a
    crashed run left pending), rate-limited. Safe to rerun and to run twice at once. Returns
    counts: created, and each status the sent payouts reached."""
    created = payouts_create_due(now=now, requested_by=requested_by)
    limiter = RateLimiter(
        per_second=settings.PAYOUT_GATEWAY_CALLS_PER_SECOND,
        clock=clock or time.monotonic,
        sleep=sleep or time.sleep,
    )
    counts = {"created": len(created), "paid": 0, "in_transit": 0, "failed": 0, "pending": 0}
    pending = list(
        Payout.objects.filter(status=Payout.Status.PENDING)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )
    for payout_id in pending:
        limiter.wait()
        payout = payout_send(payout_id=payout_id, now=now)
        counts[payout.status] += 1
    return counts


def payout_retry(*, payout_id: int, actor=None, now: datetime | None = None) -> Payout:
    """Staff, for a failed payout: pay the seller again now, with a new payout for whatever its
    available balance holds (the same rules as the daily run: account enabled, no debt, nothing
    in flight, at least the minimum). Raises PayoutNotPossible otherwise."""
    payout = Payout.objects.get(pk=payout_id)
    if payout.status != Payout.Status.FAILED:
        raise PayoutNotPossible("Only a failed payout can be retried.")
    created = payouts_create_due(
        now=now, requested_by=actor, seller_ids=[payout.seller_id], currency=payout.currency
    )
    if not created:
        raise PayoutNotPossible(
            "No new payout: the seller's payout account is not enabled, a debt is open, a payout "
            "is already on its way, or the available balance is below the minimum."
        )
    return payout_send(payout_id=created[0], now=now)


def payouts_reconcile(*, now: datetime | None = None) -> list[int]:
    """The payouts in transit for longer than RECONCILE_AFTER (ids, oldest first). The gateway
    protocol cannot look a transfer up, so webhooks are the only way a payout in transit moves;
    this only lists those still waiting, for staff (and logs them)."""
    now = now or timezone.now()
    stale = list(
        Payout.objects.filter(status=Payout.Status.IN_TRANSIT, sent_at__lt=now - RECONCILE_AFTER)
        .order_by("sent_at", "id")
        .values_list("id", flat=True)
    )
    if stale:
        logger.warning("Payouts in transit for over %s: %s", RECONCILE_AFTER, stale)
    return stale
