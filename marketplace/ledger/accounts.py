"""Names of ledger accounts. One function per account, so a code is never spelled twice.

Codes end in the currency: an account holds one currency only.
"""

from marketplace.ledger.models import LedgerAccount

ASSET = LedgerAccount.Kind.ASSET
LIABILITY = LedgerAccount.Kind.LIABILITY
REVENUE = LedgerAccount.Kind.REVENUE


def gateway_cash(currency: str) -> tuple[str, str]:
    """Money held at the payment gateway on the platform's balance."""
    return f"gateway:cash:{currency}", ASSET


def seller_pending(seller_id: int, currency: str) -> tuple[str, str]:
    """Owed to the seller for paid orders that have not settled yet."""
    return f"seller:{seller_id}:pending:{currency}", LIABILITY


def seller_available(seller_id: int, currency: str) -> tuple[str, str]:
    """Settled and owed to the seller: what a payout may take."""
    return f"seller:{seller_id}:available:{currency}", LIABILITY


def seller_payout_in_transit(seller_id: int, currency: str) -> tuple[str, str]:
    """Taken from available for a payout that the gateway has not confirmed yet."""
    return f"seller:{seller_id}:payout_in_transit:{currency}", LIABILITY


def seller_debt(seller_id: int, currency: str) -> tuple[str, str]:
    """What the seller owes the platform after a refund larger than its balance (a receivable,
    so its raw balance is positive: debits increase it)."""
    return f"seller:{seller_id}:debt:{currency}", ASSET


def creator_pending(creator_id: int, currency: str) -> tuple[str, str]:
    return f"creator:{creator_id}:pending:{currency}", LIABILITY


def creator_available(creator_id: int, currency: str) -> tuple[str, str]:
    return f"creator:{creator_id}:available:{currency}", LIABILITY


def creator_payout_in_transit(creator_id: int, currency: str) -> tuple[str, str]:
    return f"creator:{creator_id}:payout_in_transit:{currency}", LIABILITY


def platform_commission_pending(currency: str) -> tuple[str, str]:
    return f"platform:commission_pending:{currency}", LIABILITY


def platform_commission_earned(currency: str) -> tuple[str, str]:
    return f"platform:commission_earned:{currency}", REVENUE


def platform_refunds_payable(currency: str) -> tuple[str, str]:
    """Money the gateway took for orders that had expired before the payment was recorded,
    owed back to the buyer until the refund goes out (orders.services.refunds)."""
    return f"platform:refunds_payable:{currency}", LIABILITY


def platform_adjustments(currency: str) -> tuple[str, str]:
    """The platform's side of manual adjustments (marketplace.ledger.adjustments): a credit to a
    shop is debited here, a debit from a shop credited. A revenue account rather than an expense
    one (the ledger has no expense kind, and adding one would change every report of kinds): it
    reads as the platform's net gain from adjustments, negative when it gave more than it took,
    and sits beside commission earned in the platform's income."""
    return f"platform:adjustments:{currency}", REVENUE
