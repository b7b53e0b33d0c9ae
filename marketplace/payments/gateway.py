"""The payment gateway protocol. Code that moves money or onboards sellers talks to `get_gateway()`
and never to a provider directly, so the local test-mode gateway and Stripe are interchangeable.

Two parts: connected accounts (seller onboarding) and money movement (payments, transfers to
sellers, refunds, transfer reversals), the "separate charges and transfers" model of Stripe
Connect: one payment for a multi-seller checkout, linked to its transfers by `transfer_group`.

Every money-moving call takes an `idempotency_key` from the caller, derived from a stored business
id (`payment:checkout:<id>`, `transfer:payout-line:<id>`): a retried job or request repeats the
same call and the provider answers with the first result instead of moving money twice.
Amounts are integers in the currency's minor unit; currencies are upper-case ISO 4217 codes.
"""

from dataclasses import dataclass, field
from typing import Literal, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from marketplace.errors import DomainError


class PaymentDeclined(DomainError):
    """The card was refused. `message` is for the shopper; `decline_code` is the provider's reason
    (`card_declined`, `insufficient_funds`, `expired_card`, `incorrect_number`, ...);
    `payment_id` names the failed payment attempt when the provider recorded one."""

    code = "payment_declined"

    def __init__(self, message: str, *, decline_code: str = "", payment_id: str = ""):
        super().__init__(message)
        self.decline_code = decline_code
        self.payment_id = payment_id


class GatewayUnavailable(DomainError):
    """The provider could not be reached, even after retrying. The call may or may not have taken
    effect: repeat it later with the same idempotency key, which answers with the first result
    if it did."""

    code = "gateway_unavailable"


class GatewayError(DomainError):
    """Anything else the provider refused (bad parameters, an amount above what is left to refund,
    an idempotency key reused for a different request, authentication). Usually a bug or a
    configuration problem, not something the shopper can fix."""

    code = "gateway_error"


@dataclass(frozen=True)
class ConnectedAccount:
    external_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: list[str] = field(default_factory=list)
    bank_last4: str = ""


# "processing": accepted but not final yet (wait for the webhook); "requires_action": the shopper
# must authenticate (3-D Secure) before it can succeed; "failed": declined or abandoned.
PaymentStatus = Literal["succeeded", "failed", "requires_action", "processing"]


@dataclass(frozen=True)
class PaymentResult:
    id: str
    status: PaymentStatus
    amount_minor: int
    currency: str
    failure_code: str = ""
    failure_message: str = ""
    # The charge behind the payment: what a transfer's `source_transaction` points at.
    charge_id: str = ""


@dataclass(frozen=True)
class TransferResult:
    id: str
    amount_minor: int
    destination: str


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount_minor: int
    status: str


@dataclass(frozen=True)
class TransferReversalResult:
    id: str
    amount_minor: int


class PaymentGateway(Protocol):
    name: str

    def connected_account_create(
        self, *, email: str, country: str, reference: str
    ) -> ConnectedAccount:
        """Open a connected account for a seller. `reference` is our stable id for idempotency."""

    def connected_account_retrieve(self, *, external_id: str) -> ConnectedAccount: ...

    def onboarding_link_create(self, *, external_id: str, return_url: str, refresh_url: str) -> str:
        """Where to send the seller to finish onboarding (identity, bank account)."""

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
        """Charge the shopper once for the whole checkout. `payment_method` is the test card
        number at the local gateway and a PaymentMethod id (`pm_...`) at Stripe.

        Raises PaymentDeclined (the same again when the key is replayed), GatewayUnavailable,
        GatewayError. Never call it inside a transaction that holds locks."""

    def payment_retrieve(self, *, payment_id: str) -> PaymentResult:
        """The payment's current state (for reconciling one that was not final when created)."""

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
        """Move a seller's share to its connected account `destination`, out of the funds of
        the charge `source_transaction` (a PaymentResult.charge_id). Raises GatewayError for an
        account that cannot receive transfers or an amount above what the charge can fund."""

    def refund_create(
        self, *, payment_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult:
        """Give `amount_minor` of a payment back to the shopper. Under separate charges and
        transfers this comes out of the platform's balance; reverse the sellers' transfers
        with transfer_reversal_create. Raises GatewayError above what is left to refund."""

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str
    ) -> TransferReversalResult:
        """Pull `amount_minor` of a transfer back from the seller's connected account. Raises
        GatewayError above what is left of the transfer."""


def get_gateway() -> PaymentGateway:
    if settings.PAYMENT_GATEWAY == "local":
        from marketplace.payments.local import LocalGateway

        return LocalGateway()
    if settings.PAYMENT_GATEWAY == "stripe":
        from marketplace.payments.stripe_gateway import StripeGateway

        return StripeGateway()
    raise ImproperlyConfigured(
        f"PAYMENT_GATEWAY={settings.PAYMENT_GATEWAY!r} is not available; use 'local' or 'stripe'."
    )
