"""The shape of every movement of money in the life of a seller order (docs/architecture.md, "Money and the ledger").

One function per movement; orders, sellers and affiliates call these and never build legs
themselves, so the signs live in one place. Every function is idempotent through a key derived
from a stored business id (`order-paid:<seller order id>`, `payout-created:<payout id>`).

The life of a seller order of total T, platform commission c and creator commission a:
1. paid:     cash +T | seller pending -(T-c-a) | commission pending -c | creator pending -a
2. refunded R: each party's share of R taken back; from the pending accounts before settlement,
   from the available accounts (and commission earned) after. A seller whose available balance
   cannot cover its part goes into debt for the rest, never below zero. Shares are computed on
   what the order has had refunded *in all* (merchandise first, then shipping S, which carries no
   commission): the merchandise refunded so far splits by largest remainder over (T-S-c-a, c, a),
   and each refund takes the difference between the split after it and the split before it. So a
   run of partial refunds always adds up to exactly the whole order's split, and a partial refund
   gives commission back pro rata to the merchandise it returns.
3. settled:  what is still pending for the order moves to available (seller, creator) and to
   commission earned; a seller in debt pays the debt first.
4. payout P: available -> payout in transit; when the gateway confirms, in transit -> cash out;
   when it fails, back to available.
A payment that lands after its order expired (the order was never paid, nobody earns from it):
cash +T | refunds payable -T, then, as its refund is decided, refunds payable +T | cash -T.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.ledger.services import (
    Leg,
    ledger_accounts_ensure,
    ledger_check_balanced,
    ledger_lock_accounts,
    ledger_post,
    ledger_raw_balance,
)
from marketplace.money import Money


class InsufficientBalance(DomainError):
    code = "insufficient_balance"


@dataclass(frozen=True)
class OrderSplit:
    """How a seller order's money divides: seller net, platform commission, creator commission."""

    seller_id: int
    total: Money
    commission: Money
    creator_id: int | None = None
    creator_commission: Money | None = None
    # The shipping fee inside `total`: no commission is due on it, so refunds return it last.
    shipping: Money | None = None

    @property
    def creator_amount(self) -> Money:
        return self.creator_commission or Money.zero(self.total.currency)

    @property
    def seller_net(self) -> Money:
        return self.total - self.commission - self.creator_amount

    def parts_when_refunded(self, refunded: Money) -> tuple[Money, Money, Money]:
        """(seller, commission, creator commission) given back once `refunded` of the order has
        been refunded in all: the merchandise part by largest remainder, shipping to the seller's
        part. At the whole total it is exactly (seller net, commission, creator commission)."""
        currency = self.total.currency
        shipping = self.shipping or Money.zero(currency)
        merchandise = self.total - shipping
        merchandise_refunded = min(refunded, merchandise)
        weights = [
            max((merchandise - self.commission - self.creator_amount).amount_minor, 0),
            self.commission.amount_minor,
            self.creator_amount.amount_minor,
        ]
        if not any(weights):
            return refunded, Money.zero(currency), Money.zero(currency)
        seller, commission, creator = merchandise_refunded.split(weights)
        return seller + (refunded - merchandise_refunded), commission, creator

    def parts_of(self, amount: Money, *, refunded_before: Money | None = None):
        """The shares of a refund of `amount` after `refunded_before` (see the module docstring)."""
        before = refunded_before or Money.zero(amount.currency)
        after_parts = self.parts_when_refunded(before + amount)
        before_parts = self.parts_when_refunded(before)
        seller, commission, creator = (
            a - b for a, b in zip(after_parts, before_parts, strict=True)
        )
        return seller, commission, creator


def _legs(*pairs: tuple[tuple[str, str], Money]) -> list[Leg]:
    """Legs from (account, amount) pairs, leaving out zero amounts."""
    return [Leg(account, amount) for account, amount in pairs if amount.amount_minor]


def _order_reference(seller_order_id: int) -> str:
    return f"seller-order:{seller_order_id}"


def journal_order_paid(*, seller_order_id: int, split: OrderSplit) -> LedgerTransaction:
    currency = split.total.currency
    if split.seller_net.amount_minor < 0:
        raise DomainError("Commissions cannot exceed the order total.", code="commission_too_large")
    legs = _legs(
        (accounts.gateway_cash(currency), split.total),
        (accounts.seller_pending(split.seller_id, currency), -split.seller_net),
        (accounts.platform_commission_pending(currency), -split.commission),
        *(
            [(accounts.creator_pending(split.creator_id, currency), -split.creator_amount)]
            if split.creator_id
            else []
        ),
    )
    return ledger_post(
        idempotency_key=f"order-paid:{seller_order_id}",
        kind="order_paid",
        legs=legs,
        reference=_order_reference(seller_order_id),
    )


def _is_settled(seller_order_id: int) -> bool:
    return LedgerTransaction.objects.filter(
        idempotency_key=f"order-settled:{seller_order_id}"
    ).exists()


def journal_order_refunded(
    *,
    refund_id: int,
    seller_order_id: int,
    split: OrderSplit,
    amount: Money,
    commission_part: Money | None = None,
) -> LedgerTransaction:
    """Return `amount` to the buyer, taking each party's share back. Raises DomainError when the
    refund would exceed what the order still holds.

    `commission_part`: the platform commission this refund gives back, when the caller knows it
    line by line (orders' refund_issue: each refunded line at its own rate, see the module
    docstring); the seller's part is then the rest after the creator's. Without it, the
    commission comes back pro rata to the merchandise refunded."""
    currency = amount.currency
    key = f"order-refunded:{refund_id}"
    with transaction.atomic():
        seller_accounts = [
            accounts.seller_pending(split.seller_id, currency),
            accounts.seller_available(split.seller_id, currency),
            accounts.seller_debt(split.seller_id, currency),
        ]
        ledger_lock_accounts(seller_accounts)
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        refunded_before = _refunded_total(seller_order_id)
        if refunded_before + amount.amount_minor > split.total.amount_minor:
            raise DomainError(
                "The refund would exceed what was paid for this order.", code="refund_too_large"
            )
        seller_part, pro_rata_commission, creator_part = split.parts_of(
            amount, refunded_before=Money(refunded_before, currency)
        )
        if commission_part is None:
            commission_part = pro_rata_commission
        else:
            seller_part = amount - commission_part - creator_part
        if not _is_settled(seller_order_id):
            legs = _legs(
                (accounts.seller_pending(split.seller_id, currency), seller_part),
                (accounts.platform_commission_pending(currency), commission_part),
                *(
                    [(accounts.creator_pending(split.creator_id, currency), creator_part)]
                    if split.creator_id
                    else []
                ),
                (accounts.gateway_cash(currency), -amount),
            )
        else:
            available = -ledger_raw_balance(accounts.seller_available(split.seller_id, currency)[0])
            from_available = Money(min(max(available, 0), seller_part.amount_minor), currency)
            into_debt = seller_part - from_available
            legs = _legs(
                (accounts.seller_available(split.seller_id, currency), from_available),
                (accounts.seller_debt(split.seller_id, currency), into_debt),
                (accounts.platform_commission_earned(currency), commission_part),
                *(
                    [(accounts.creator_available(split.creator_id, currency), creator_part)]
                    if split.creator_id
                    else []
                ),
                (accounts.gateway_cash(currency), -amount),
            )
        return ledger_post(
            idempotency_key=key,
            kind="order_refunded",
            legs=legs,
            reference=_order_reference(seller_order_id),
        )


def _refunded_total(seller_order_id: int) -> int:
    total = LedgerEntry.objects.filter(
        transaction__reference=_order_reference(seller_order_id),
        transaction__kind="order_refunded",
        account__code__startswith="gateway:cash:",
    ).aggregate(total=Sum("amount_minor"))["total"]
    return -(total or 0)


@dataclass(frozen=True)
class SettlementItem:
    """One seller order to settle: who is owed what is still pending for it."""

    seller_order_id: int
    seller_id: int
    currency: str
    creator_id: int | None = None


def journal_order_settled(*, seller_order_id: int, split: OrderSplit) -> LedgerTransaction | None:
    """Release what is still pending for one order (`journal_orders_settled` for one). Returns
    None when nothing is left (fully refunded before settlement)."""
    journal_orders_settled(
        [
            SettlementItem(
                seller_order_id=seller_order_id,
                seller_id=split.seller_id,
                currency=split.total.currency,
                creator_id=split.creator_id,
            )
        ]
    )
    return LedgerTransaction.objects.filter(
        idempotency_key=f"order-settled:{seller_order_id}"
    ).first()


def journal_orders_settled(items: list[SettlementItem], *, posted_at=None) -> list[int]:
    """Release what is still pending for each order, for a whole batch in a fixed number of
    statements whatever its size (the settlement job's unit of work): the sellers' accounts are
    locked in code order, what each order still holds in each pending account is read in one
    aggregate, the sellers' debts in another, then every transaction and every entry is inserted
    in bulk. A seller in debt repays it first, order by order in the batch's order. An order
    settled before (its key exists) or with nothing left is skipped. Returns the ids settled.
    """
    items = list({item.seller_order_id: item for item in items}.values())
    if not items:
        return []
    posted_at = posted_at or timezone.now()
    with transaction.atomic():
        locked = sorted(
            {
                account
                for item in items
                for account in (
                    accounts.seller_pending(item.seller_id, item.currency),
                    accounts.seller_available(item.seller_id, item.currency),
                    accounts.seller_debt(item.seller_id, item.currency),
                )
            }
        )
        ledger_lock_accounts(locked)
        keys = {item.seller_order_id: f"order-settled:{item.seller_order_id}" for item in items}
        done = set(
            LedgerTransaction.objects.filter(idempotency_key__in=keys.values()).values_list(
                "idempotency_key", flat=True
            )
        )
        items = [item for item in items if keys[item.seller_order_id] not in done]
        if not items:
            return []
        left = _pending_left_by_order(items)
        debt_codes = {accounts.seller_debt(i.seller_id, i.currency)[0] for i in items}
        # Summed per account in a correlated subquery, so each debt account is one index probe
        # (a join over `account__code__in` made PostgreSQL scan every ledger entry per batch).
        debts = dict(
            LedgerAccount.objects.filter(code__in=debt_codes).values_list(
                "code",
                Coalesce(
                    Subquery(
                        LedgerEntry.objects.filter(account_id=OuterRef("pk"))
                        .order_by()
                        .values("account_id")
                        .annotate(total=Sum("amount_minor"))
                        .values("total")
                    ),
                    0,
                ),
            )
        )
        planned: list[tuple[SettlementItem, list[Leg]]] = []
        for item in items:
            currency = item.currency
            reference = _order_reference(item.seller_order_id)
            seller_pending = accounts.seller_pending(item.seller_id, currency)
            creator_pending = (
                accounts.creator_pending(item.creator_id, currency) if item.creator_id else None
            )
            seller_left = left.get((reference, seller_pending[0]), 0)
            commission_left = left.get(
                (reference, accounts.platform_commission_pending(currency)[0]), 0
            )
            creator_left = left.get((reference, creator_pending[0]), 0) if creator_pending else 0
            if not (seller_left or commission_left or creator_left):
                continue
            debt_account = accounts.seller_debt(item.seller_id, currency)
            debt = max(debts.get(debt_account[0], 0), 0)
            to_debt = min(debt, max(seller_left, 0))
            debts[debt_account[0]] = debt - to_debt
            pairs = [
                (seller_pending, Money(seller_left, currency)),
                (debt_account, Money(-to_debt, currency)),
                (
                    accounts.seller_available(item.seller_id, currency),
                    Money(-(seller_left - to_debt), currency),
                ),
                (accounts.platform_commission_pending(currency), Money(commission_left, currency)),
                (accounts.platform_commission_earned(currency), Money(-commission_left, currency)),
            ]
            if creator_pending:
                pairs += [
                    (creator_pending, Money(creator_left, currency)),
                    (
                        accounts.creator_available(item.creator_id, currency),
                        Money(-creator_left, currency),
                    ),
                ]
            legs = _legs(*pairs)
            ledger_check_balanced(legs)
            planned.append((item, legs))
        if not planned:
            return []
        found = ledger_accounts_ensure(list({leg.account for _, legs in planned for leg in legs}))
        created = LedgerTransaction.objects.bulk_create(
            [
                LedgerTransaction(
                    idempotency_key=keys[item.seller_order_id],
                    kind="order_settled",
                    reference=_order_reference(item.seller_order_id),
                    posted_at=posted_at,
                )
                for item, _ in planned
            ]
        )
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    transaction=ledger_transaction,
                    account=found[leg.code],
                    amount_minor=leg.amount.amount_minor,
                    currency=leg.amount.currency,
                    posted_at=posted_at,
                )
                for ledger_transaction, (_, legs) in zip(created, planned, strict=True)
                for leg in legs
            ]
        )
    return [item.seller_order_id for item, _ in planned]


def _pending_left_by_order(items: list[SettlementItem]) -> dict[tuple[str, str], int]:
    """(order reference, account code) -> what the order still holds there, as owed (positive),
    for the pending accounts of these orders: one aggregate query."""
    references = [_order_reference(item.seller_order_id) for item in items]
    codes = set()
    for item in items:
        codes.add(accounts.seller_pending(item.seller_id, item.currency)[0])
        codes.add(accounts.platform_commission_pending(item.currency)[0])
        if item.creator_id:
            codes.add(accounts.creator_pending(item.creator_id, item.currency)[0])
    rows = (
        LedgerEntry.objects.filter(transaction__reference__in=references, account__code__in=codes)
        .values_list("transaction__reference", "account__code")
        .annotate(total=Sum("amount_minor"))
    )
    return {(reference, code): -total for reference, code, total in rows}


def journal_seller_payout_created(
    *, payout_id: int, seller_id: int, amount: Money
) -> LedgerTransaction:
    """Reserve `amount` of the seller's available balance for a payout.

    Raises InsufficientBalance (writing nothing) when the available balance is smaller or a debt
    is open (both read under the accounts' locks)."""
    currency = amount.currency
    available_account = accounts.seller_available(seller_id, currency)
    key = f"payout-created:{payout_id}"
    if amount.amount_minor <= 0:
        raise DomainError("A payout must be a positive amount.", code="payout_not_positive")
    debt_account = accounts.seller_debt(seller_id, currency)
    with transaction.atomic():
        ledger_lock_accounts([available_account, debt_account])
        if not LedgerTransaction.objects.filter(idempotency_key=key).exists():
            available = -ledger_raw_balance(available_account[0])
            if amount.amount_minor > available:
                raise InsufficientBalance(
                    f"The payout of {amount} exceeds the available balance of "
                    f"{Money(available, currency)}."
                )
            if ledger_raw_balance(debt_account[0]) > 0:
                raise InsufficientBalance("No payout while the seller owes a debt.")
        return ledger_post(
            idempotency_key=key,
            kind="payout_created",
            legs=[
                Leg(available_account, amount),
                Leg(accounts.seller_payout_in_transit(seller_id, currency), -amount),
            ],
            reference=f"payout:{payout_id}",
        )


def journal_seller_payout_paid(
    *, payout_id: int, seller_id: int, amount: Money
) -> LedgerTransaction:
    currency = amount.currency
    return ledger_post(
        idempotency_key=f"payout-paid:{payout_id}",
        kind="payout_paid",
        legs=[
            Leg(accounts.seller_payout_in_transit(seller_id, currency), amount),
            Leg(accounts.gateway_cash(currency), -amount),
        ],
        reference=f"payout:{payout_id}",
    )


def journal_seller_payout_failed(
    *, payout_id: int, seller_id: int, amount: Money
) -> LedgerTransaction:
    """The gateway returned the payout: the money goes back to the seller, repaying any debt
    opened meanwhile first (a refund after settlement), the rest to available; payouts wait
    while a debt is open, so money left in available beside a debt would be stuck."""
    currency = amount.currency
    key = f"payout-failed:{payout_id}"
    debt_account = accounts.seller_debt(seller_id, currency)
    with transaction.atomic():
        ledger_lock_accounts([accounts.seller_available(seller_id, currency), debt_account])
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        debt = max(ledger_raw_balance(debt_account[0]), 0)
        to_debt = Money(min(debt, amount.amount_minor), currency)
        return ledger_post(
            idempotency_key=key,
            kind="payout_failed",
            legs=_legs(
                (accounts.seller_payout_in_transit(seller_id, currency), amount),
                (debt_account, -to_debt),
                (accounts.seller_available(seller_id, currency), -(amount - to_debt)),
            ),
            reference=f"payout:{payout_id}",
        )


def journal_late_payment_received(*, seller_order_id: int, amount: Money) -> LedgerTransaction:
    """A payment landed for an order that had already expired (never journaled as paid): the
    cash is in, owed back to the buyer. The seller and the platform earn nothing from it."""
    return ledger_post(
        idempotency_key=f"late-payment:{seller_order_id}",
        kind="late_payment_received",
        legs=[
            Leg(accounts.gateway_cash(amount.currency), amount),
            Leg(accounts.platform_refunds_payable(amount.currency), -amount),
        ],
        reference=_order_reference(seller_order_id),
    )


def journal_late_payment_refunded(*, seller_order_id: int, amount: Money) -> LedgerTransaction:
    """The late payment of an expired order goes back to the buyer (posted when the refund is
    decided, as every refund is)."""
    return ledger_post(
        idempotency_key=f"late-payment-refunded:{seller_order_id}",
        kind="late_payment_refunded",
        legs=[
            Leg(accounts.platform_refunds_payable(amount.currency), amount),
            Leg(accounts.gateway_cash(amount.currency), -amount),
        ],
        reference=_order_reference(seller_order_id),
    )


def journal_seller_adjusted(
    *, adjustment_id: int, seller_id: int, direction: str, amount: Money, description: str = ""
) -> LedgerTransaction:
    """A manual adjustment by platform staff (marketplace.ledger.adjustments), against the
    platform's adjustments account.

    credit: platform adjustments +A | seller debt -d | seller available -(A-d), where d is what
            the seller owes (debt is repaid first, as settlement does);
    debit:  seller available +a | seller debt +(A-a) | platform adjustments -A, where a is what
            available holds: the rest becomes debt, as a refund after settlement does, so
            available never goes below zero.
    Idempotent by `adjustment:<id>`: a repeat returns the first transaction, whatever the
    balances are by then."""
    if direction not in ("credit", "debit"):
        raise DomainError(f"Unknown adjustment direction {direction!r}.", code="invalid_direction")
    if amount.amount_minor <= 0:
        raise DomainError("An adjustment must be a positive amount.", code="amount_not_positive")
    currency = amount.currency
    key = f"adjustment:{adjustment_id}"
    available_account = accounts.seller_available(seller_id, currency)
    debt_account = accounts.seller_debt(seller_id, currency)
    with transaction.atomic():
        ledger_lock_accounts([available_account, debt_account])
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        if direction == "credit":
            debt = max(ledger_raw_balance(debt_account[0]), 0)
            to_debt = Money(min(debt, amount.amount_minor), currency)
            legs = _legs(
                (accounts.platform_adjustments(currency), amount),
                (debt_account, -to_debt),
                (available_account, -(amount - to_debt)),
            )
        else:
            available = -ledger_raw_balance(available_account[0])
            from_available = Money(min(max(available, 0), amount.amount_minor), currency)
            legs = _legs(
                (available_account, from_available),
                (debt_account, amount - from_available),
                (accounts.platform_adjustments(currency), -amount),
            )
        return ledger_post(
            idempotency_key=key,
            kind="adjustment",
            legs=legs,
            reference=key,
            description=description[:300],
        )
