"""Posting to the ledger and reading balances. The only code that writes ledger rows."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.money import Money


class UnbalancedTransaction(DomainError):
    code = "unbalanced_transaction"


class IdempotencyConflict(DomainError):
    """The key was used before for different legs: a bug in the caller, never a retry."""

    code = "idempotency_conflict"


@dataclass(frozen=True)
class Leg:
    account: tuple[str, str]  # (code, kind), from marketplace.ledger.accounts
    amount: Money  # positive debits, negative credits

    @property
    def code(self) -> str:
        return self.account[0]


def ledger_check_balanced(legs: list[Leg]) -> None:
    """Raise UnbalancedTransaction unless the legs are two or more, non-zero, each in its
    account's currency, and sum to zero per currency (bulk posters check with this too)."""
    _check_balanced(legs)


def _check_balanced(legs: list[Leg]) -> None:
    if len(legs) < 2:
        raise UnbalancedTransaction("A ledger transaction needs at least two legs.")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if leg.amount.amount_minor == 0:
            raise UnbalancedTransaction(f"A leg on {leg.code} is zero.")
        if not leg.code.endswith(":" + leg.amount.currency):
            raise UnbalancedTransaction(f"{leg.code} does not hold {leg.amount.currency}.")
        totals[leg.amount.currency] += leg.amount.amount_minor
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedTransaction(f"The legs do not sum to zero: {unbalanced}.")


def _same_legs(existing: LedgerTransaction, legs: list[Leg]) -> bool:
    stored = sorted(existing.entries.values_list("account__code", "amount_minor", "currency"))
    wanted = sorted((leg.code, leg.amount.amount_minor, leg.amount.currency) for leg in legs)
    return stored == wanted


def ledger_accounts_ensure(accounts: list[tuple[str, str]]) -> dict[str, LedgerAccount]:
    """The accounts for these (code, kind) pairs, created when missing. Safe under concurrency."""
    codes = dict(accounts)
    found = {a.code: a for a in LedgerAccount.objects.filter(code__in=codes)}
    missing = [
        LedgerAccount(code=code, kind=kind, currency=code.rsplit(":", 1)[1])
        for code, kind in codes.items()
        if code not in found
    ]
    if missing:
        # ignore_conflicts: a concurrent poster may create the same account; both then read it.
        LedgerAccount.objects.bulk_create(missing, ignore_conflicts=True)
        found = {a.code: a for a in LedgerAccount.objects.filter(code__in=codes)}
    return found


def ledger_post(
    *,
    idempotency_key: str,
    kind: str,
    legs: list[Leg],
    reference: str = "",
    description: str = "",
    posted_at=None,
) -> LedgerTransaction:
    """Post one balanced transaction, exactly once per idempotency key.

    Posting the same key again with the same legs returns the first transaction and writes
    nothing (a retried job cannot post twice). Raises UnbalancedTransaction for legs that do not
    sum to zero per currency, IdempotencyConflict when the key was used for different legs.
    """
    _check_balanced(legs)
    existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _replayed(existing, legs)
    posted_at = posted_at or timezone.now()
    try:
        with transaction.atomic():
            accounts = ledger_accounts_ensure([leg.account for leg in legs])
            ledger_transaction = LedgerTransaction.objects.create(
                idempotency_key=idempotency_key,
                kind=kind,
                reference=reference,
                description=description,
                posted_at=posted_at,
            )
            LedgerEntry.objects.bulk_create(
                [
                    LedgerEntry(
                        transaction=ledger_transaction,
                        account=accounts[leg.code],
                        amount_minor=leg.amount.amount_minor,
                        currency=leg.amount.currency,
                        posted_at=posted_at,
                    )
                    for leg in legs
                ]
            )
    except IntegrityError:
        # Lost a race with a concurrent post of the same key: theirs stands.
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _replayed(existing, legs)
    return ledger_transaction


def _replayed(existing: LedgerTransaction, legs: list[Leg]) -> LedgerTransaction:
    if not _same_legs(existing, legs):
        raise IdempotencyConflict(
            f"Idempotency key {existing.idempotency_key} was already used for other amounts."
        )
    return existing


def ledger_raw_balance(code: str, *, as_of=None) -> int:
    """Sum of the account's entries (debits positive), optionally up to and including `as_of`."""
    entries = LedgerEntry.objects.filter(account__code=code)
    if as_of is not None:
        entries = entries.filter(posted_at__lte=as_of)
    return entries.aggregate(total=Sum("amount_minor"))["total"] or 0


def ledger_balance(account: tuple[str, str], *, as_of=None) -> Money:
    """The balance as people read it: what the platform holds (assets) or owes (liabilities)."""
    code, kind = account
    sign = 1 if kind == LedgerAccount.Kind.ASSET else -1
    return Money(sign * ledger_raw_balance(code, as_of=as_of), code.rsplit(":", 1)[1])


def ledger_lock_accounts(accounts: list[tuple[str, str]]) -> dict[str, LedgerAccount]:
    """Lock these accounts' rows in code order (no deadlocks) for a check-then-post on a balance.
    Call inside transaction.atomic()."""
    ledger_accounts_ensure(accounts)
    codes = sorted(code for code, _ in accounts)
    return {
        a.code: a
        for a in LedgerAccount.objects.select_for_update().filter(code__in=codes).order_by("code")
    }
