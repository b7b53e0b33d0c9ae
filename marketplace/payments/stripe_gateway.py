"""The Stripe gateway: Stripe Connect with separate charges and transfers, through the official
`stripe` package.

- A checkout is one PaymentIntent, confirmed at once with the shopper's PaymentMethod and tagged
  with a `transfer_group`; each seller's share then goes to its Express connected account as a
  Transfer with `source_transaction` (the PaymentIntent's charge), so the transfer waits for the
  charge's funds instead of drawing on the platform's balance.
- Refunds come out of the platform's balance (that is how separate charges work); the caller
  reverses the sellers' transfers explicitly with `transfer_reversal_create`.
- Every money-moving call sends the caller's idempotency key, derived from a stored business id,
  so a retry (by the package after a network error, or by a job run twice) replays Stripe's first
  answer instead of moving money again.
- Timeouts and retries: 10 s a request; the package retries connection errors and timeouts (and
  the 409/5xx answers Stripe marks as safe to retry under the same idempotency key) twice with
  backoff. It never retries a card decline or any other 4xx.
- Errors: stripe.CardError -> PaymentDeclined, stripe.APIConnectionError -> GatewayUnavailable,
  any other stripe.StripeError -> GatewayError. Nothing else escapes.

No call here may run inside a transaction that holds locks (STYLE.md rule 5): a provider can take
seconds to answer.
"""

import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import stripe
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from marketplace.payments.gateway import (
    ConnectedAccount,
    GatewayError,
    GatewayUnavailable,
    PaymentDeclined,
    PaymentResult,
    RefundResult,
    TransferResult,
    TransferReversalResult,
)

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 10
MAX_NETWORK_RETRIES = 2

# PaymentIntent statuses (https://docs.stripe.com/payments/paymentintents/lifecycle) as ours.
PAYMENT_INTENT_STATUSES = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "requires_confirmation": "requires_action",
    "processing": "processing",
    "requires_capture": "processing",
    # A declined confirmation leaves the intent waiting for another payment method.
    "requires_payment_method": "failed",
    "canceled": "failed",
}


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    # One client (and its HTTP connection pool) per key and base, reused across calls.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
    )


@contextmanager
def _translated_errors(action: str) -> Iterator[None]:
    """Turn the package's exceptions into the gateway's, so callers never import stripe."""
    try:
        yield
    except stripe.CardError as error:
        details = error.error
        raise PaymentDeclined(
            error.user_message or "Your card was declined.",
            decline_code=(details and details.decline_code) or error.code or "card_declined",
            payment_id=_payment_intent_id_of(details),
        ) from error
    except stripe.APIConnectionError as error:
        logger.warning("Stripe unreachable while trying to %s: %s", action, error)
        raise GatewayUnavailable(
            "The payment provider cannot be reached right now. Please try again in a minute."
        ) from error
    except stripe.StripeError as error:
        if _is_ambiguous(error):
            # 409 (the same idempotency key in flight), 429 (rate limited) and 5xx: the request
            # may or may not have taken effect. Unavailable, not refused, so callers keep the
            # operation pending and retry it with the same key instead of recording a failure
            # (a payout marked failed while its transfer exists would be paid again).
            logger.warning("Stripe could not answer %s for now: %s", action, error)
            raise GatewayUnavailable(
                "The payment provider is busy right now. Please try again in a minute."
            ) from error
        logger.error(
            "Stripe refused to %s: %s (HTTP %s, code %s, request %s)",
            action,
            error.user_message,
            error.http_status,
            error.code,
            error.request_id,
        )
        raise GatewayError(
            f"The payment provider refused to {action}: {error.user_message or error}",
            code=error.code or "gateway_error",
        ) from error


def _is_ambiguous(error: stripe.StripeError) -> bool:
    status = error.http_status or 0
    return status in (409, 429) or status >= 500


def _payment_intent_id_of(details: Any) -> str:
    payment_intent = details and details.payment_intent
    if isinstance(payment_intent, stripe.StripeObject):
        return payment_intent.id or ""
    return payment_intent or ""


def _plain(value: Any) -> Any:
    """A StripeObject (which is no dict) as plain dicts and lists; anything else as it is."""
    return value.to_dict() if isinstance(value, stripe.StripeObject) else value


def _as_payment_result(intent: Any) -> PaymentResult:
    intent = _plain(intent)
    error = intent.get("last_payment_error") or {}
    charge = intent.get("latest_charge") or ""
    if isinstance(charge, Mapping):  # expanded
        charge = charge.get("id") or ""
    return PaymentResult(
        id=intent["id"],
        status=PAYMENT_INTENT_STATUSES.get(intent.get("status"), "processing"),
        amount_minor=int(intent["amount"]),
        currency=str(intent["currency"]).upper(),
        failure_code=(error.get("decline_code") or error.get("code") or "") if error else "",
        failure_message=(error.get("message") or "") if error else "",
        charge_id=charge,
    )


def connected_account_from_stripe(account: Any) -> ConnectedAccount:
    """Our view of a Stripe Account object: from the API, or from an `account.updated` event's
    `data.object` (the same snapshot, as a plain dict)."""
    account = _plain(account)
    requirements = account.get("requirements") or {}
    due = list(requirements.get("past_due") or [])
    due += [item for item in requirements.get("currently_due") or [] if item not in due]
    external_accounts = (account.get("external_accounts") or {}).get("data") or []
    return ConnectedAccount(
        external_id=account["id"],
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        requirements_due=due,
        bank_last4=(external_accounts[0].get("last4") or "") if external_accounts else "",
    )


class StripeGateway:
    name = "stripe"

    def __init__(self, *, api_key: str | None = None, api_base: str | None = None):
        api_key = api_key if api_key is not None else settings.STRIPE_SECRET_KEY
        if not api_key:
            raise ImproperlyConfigured("The Stripe gateway needs STRIPE_SECRET_KEY.")
        api_base = api_base if api_base is not None else settings.STRIPE_API_BASE
        self.client = _client(api_key, api_base.rstrip("/"))

    # --- Connected accounts (seller onboarding)

    def connected_account_create(
        self, *, email: str, country: str, reference: str
    ) -> ConnectedAccount:
        params: dict[str, Any] = {
            "type": "express",
            "email": email,
            # Both capabilities: asking for transfers alone puts the seller under the recipient
            # service agreement, which limits the countries and what the account can do.
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": {"reference": reference},
        }
        if country:
            params["country"] = country
        with _translated_errors("open a connected account"):
            account = self.client.v1.accounts.create(
                params, options={"idempotency_key": f"account:{reference}"}
            )
        return connected_account_from_stripe(account)

    def connected_account_retrieve(self, *, external_id: str) -> ConnectedAccount:
        with _translated_errors("read a connected account"):
            account = self.client.v1.accounts.retrieve(external_id)
        return connected_account_from_stripe(account)

    def onboarding_link_create(self, *, external_id: str, return_url: str, refresh_url: str) -> str:
        with _translated_errors("open an onboarding link"):
            link = self.client.v1.account_links.create(
                {
                    "account": external_id,
                    "type": "account_onboarding",
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                }
            )
        return link.url

    # --- Money movement

    def payment_create(
        self,
        *,
        amount_minor: int,
        currency: str,
        transfer_group: str,
        idempotency_key: str,
        payment_method: str,
        description: str = "",
        metadata: dict[str, str] | None = None,
    ) -> PaymentResult:
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            # Cards only: no redirect-based methods, so no return_url is needed to confirm here.
            "payment_method_types": ["card"],
            "transfer_group": transfer_group,
        }
        if description:
            params["description"] = description
        if metadata:
            params["metadata"] = dict(metadata)
        with _translated_errors("take the payment"):
            intent = self.client.v1.payment_intents.create(
                params, options={"idempotency_key": idempotency_key}
            )
        return _as_payment_result(intent)

    def payment_retrieve(self, *, payment_id: str) -> PaymentResult:
        with _translated_errors("read the payment"):
            intent = self.client.v1.payment_intents.retrieve(payment_id)
        return _as_payment_result(intent)

    def transfer_create(
        self,
        *,
        amount_minor: int,
        currency: str,
        destination: str,
        source_transaction: str,
        transfer_group: str,
        idempotency_key: str,
    ) -> TransferResult:
        params: dict[str, Any] = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "destination": destination,
            "transfer_group": transfer_group,
        }
        if source_transaction:
            params["source_transaction"] = source_transaction
        with _translated_errors("transfer to the seller"):
            transfer = self.client.v1.transfers.create(
                params, options={"idempotency_key": idempotency_key}
            )
        return TransferResult(
            id=transfer.id, amount_minor=int(transfer.amount), destination=transfer.destination
        )

    def refund_create(
        self, *, payment_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult:
        with _translated_errors("refund the payment"):
            refund = self.client.v1.refunds.create(
                {"payment_intent": payment_id, "amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        return RefundResult(id=refund.id, amount_minor=int(refund.amount), status=refund.status)

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str
    ) -> TransferReversalResult:
        with _translated_errors("reverse the transfer"):
            reversal = self.client.v1.transfers.reversals.create(
                transfer_id,
                {"amount": amount_minor},
                options={"idempotency_key": idempotency_key},
            )
        return TransferReversalResult(id=reversal.id, amount_minor=int(reversal.amount))
