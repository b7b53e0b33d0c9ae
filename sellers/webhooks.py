"""Stripe webhook handlers owned by sellers, registered with the payments core when the app loads
(SellersConfig.ready imports this module). Payments sits below sellers and cannot import it.

`account.updated`: the seller's connected account changed at Stripe (onboarding finished, a
requirement came due, payouts paused). The event carries the account's full state; we copy it
unless we already hold a newer one, so events delivered out of order never undo each other.

Payouts (sellers.services.payouts): with Stripe a payout is a transfer to the seller's connected
account, found again by its transfer id (`Payout.gateway_transfer_id`).
- `transfer.reversed` (the whole transfer pulled back) and `transfer.failed`: the payout fails,
  its money goes back to the seller's available balance and the seller is told why. A partial
  reversal, or one of a payout already paid, is left to staff (a manual adjustment): noted only.
- `payout.paid` on a connected account: Stripe paid the account's balance to the seller's bank.
  A Stripe payout does not name the transfers it carries (automatic payouts sweep the balance),
  so it marks paid every payout of that account in transit that was sent before the Stripe payout
  was created: the money had reached the balance it swept.
- `payout.failed` on a connected account: the bank refused; Stripe puts the money back on the
  connected account's balance, which is the seller's, not ours. Our transfer stands, so nothing
  moves in our ledger; the note says so (the seller sees the failure at Stripe's dashboard).
Transitions move only forward along PAYOUT_MACHINE, so late or repeated events change nothing.
"""

from datetime import UTC, datetime

from marketplace.payments.stripe_gateway import connected_account_from_stripe
from marketplace.payments.webhooks import StripeEvent, webhook_handler_register
from sellers.models import Payout, PayoutAccount
from sellers.services.payouts import payout_mark_failed, payout_mark_paid
from sellers.services.setup import payout_account_apply_gateway_state


@webhook_handler_register("account.updated")
def payout_account_updated(event: StripeEvent) -> str | None:
    return payout_account_apply_gateway_state(
        remote=connected_account_from_stripe(event.object),
        reported_at=event.created,
        bank_reported="external_accounts" in event.object,
    )


def _payout_of_transfer(event: StripeEvent) -> Payout | None:
    transfer_id = str(event.object.get("id") or "")
    if not transfer_id:
        return None
    return Payout.objects.filter(gateway_transfer_id=transfer_id).first()


@webhook_handler_register("transfer.reversed")
@webhook_handler_register("transfer.failed")
def payout_transfer_returned(event: StripeEvent) -> str | None:
    payout = _payout_of_transfer(event)
    if payout is None:
        return "not a payout"
    if payout.status == Payout.Status.FAILED:
        return "already failed"
    if payout.status == Payout.Status.PAID:
        return "payout already paid: needs a manual adjustment"
    if event.type == "transfer.reversed":
        amount = int(event.object.get("amount") or 0)
        if int(event.object.get("amount_reversed") or 0) < amount:
            return "partial reversal: needs a manual adjustment"
        reason = "The payment provider reversed the transfer to your payout account."
    else:
        reason = str(
            event.object.get("failure_message")
            or "The payment provider could not complete the transfer to your payout account."
        )
    payout_mark_failed(payout_id=payout.pk, reason=reason, now=event.created)
    return None


@webhook_handler_register("payout.paid")
def payouts_paid_at_bank(event: StripeEvent) -> str | None:
    account = (
        PayoutAccount.objects.filter(external_id=event.account).first() if event.account else None
    )
    if account is None:
        return "unknown account"
    created = event.object.get("created")
    swept_at = datetime.fromtimestamp(int(created), tz=UTC) if created else event.created
    in_transit = Payout.objects.filter(seller_id=account.seller_id, status=Payout.Status.IN_TRANSIT)
    if swept_at is not None:
        in_transit = in_transit.filter(sent_at__lte=swept_at)
    ids = list(in_transit.order_by("id").values_list("id", flat=True))
    for payout_id in ids:
        payout_mark_paid(payout_id=payout_id, now=event.created)
    return None if ids else "no payout in transit"


@webhook_handler_register("payout.failed")
def payout_failed_at_bank(event: StripeEvent) -> str | None:
    # The money went back to the connected account's balance at Stripe (the seller's): our
    # transfer stands, nothing moves in our ledger.
    return "bank payout failed at the connected account; our transfer stands"
