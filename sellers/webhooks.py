"""Stripe webhook handlers owned by sellers, registered with the payments core when the app loads
(SellersConfig.ready imports this module). Payments sits below sellers and cannot import it.

`account.updated`: the seller's connected account changed at Stripe (onboarding finished, a
requirement came due, payouts paused). The event carries the account's full state; we copy it
unless we already hold a newer one, so events delivered out of order never undo each other.
"""

from marketplace.payments.stripe_gateway import connected_account_from_stripe
from marketplace.payments.webhooks import StripeEvent, webhook_handler_register
from sellers.services.setup import payout_account_apply_gateway_state


@webhook_handler_register("account.updated")
def payout_account_updated(event: StripeEvent) -> str | None:
    return payout_account_apply_gateway_state(
        remote=connected_account_from_stripe(event.object),
        reported_at=event.created,
        bank_reported="external_accounts" in event.object,
    )
