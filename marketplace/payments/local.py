"""The local test-mode gateway: everything a provider would do, simulated in our own database."""

import secrets

from django.urls import reverse
from django.utils.http import urlencode

from marketplace.payments import local_money
from marketplace.payments.gateway import (
    ConnectedAccount,
    PaymentResult,
    RefundResult,
    TransferResult,
    TransferReversalResult,
)
from marketplace.payments.models import LocalConnectedAccount


class LocalGateway:
    name = "local"

    def connected_account_create(
        self, *, email: str, country: str, reference: str
    ) -> ConnectedAccount:
        account, _ = LocalConnectedAccount.objects.get_or_create(
            external_id=f"acct_local_{reference}",
            defaults={"email": email, "country": country},
        )
        return self._as_connected_account(account)

    def connected_account_retrieve(self, *, external_id: str) -> ConnectedAccount:
        return self._as_connected_account(
            LocalConnectedAccount.objects.get(external_id=external_id)
        )

    def onboarding_link_create(self, *, external_id: str, return_url: str, refresh_url: str) -> str:
        # Like Stripe's Account Links: a one-off URL; the nonce only keeps browsers from caching it.
        query = urlencode({"return_url": return_url, "nonce": secrets.token_urlsafe(8)})
        return reverse("payments:local_onboarding", args=[external_id]) + "?" + query

    @staticmethod
    def _as_connected_account(account: LocalConnectedAccount) -> ConnectedAccount:
        enabled = account.details_submitted
        return ConnectedAccount(
            external_id=account.external_id,
            charges_enabled=enabled,
            payouts_enabled=enabled,
            details_submitted=account.details_submitted,
            requirements_due=[] if enabled else ["external_account", "individual.verification"],
            bank_last4=account.bank_last4,
        )

    # Money movement: the rules (test cards, idempotency, limits) live in local_money.

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
        return local_money.local_payment_create(
            amount_minor=amount_minor,
            currency=currency,
            transfer_group=transfer_group,
            idempotency_key=idempotency_key,
            payment_method=payment_method,
            description=description,
            metadata=metadata,
        )

    def payment_retrieve(self, *, payment_id: str) -> PaymentResult:
        return local_money.local_payment_retrieve(payment_id=payment_id)

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
        return local_money.local_transfer_create(
            amount_minor=amount_minor,
            currency=currency,
            destination=destination,
            source_transaction=source_transaction,
            transfer_group=transfer_group,
            idempotency_key=idempotency_key,
        )

    def refund_create(
        self, *, payment_id: str, amount_minor: int, idempotency_key: str
    ) -> RefundResult:
        return local_money.local_refund_create(
            payment_id=payment_id, amount_minor=amount_minor, idempotency_key=idempotency_key
        )

    def transfer_reversal_create(
        self, *, transfer_id: str, amount_minor: int, idempotency_key: str
    ) -> TransferReversalResult:
        return local_money.local_transfer_reversal_create(
            transfer_id=transfer_id, amount_minor=amount_minor, idempotency_key=idempotency_key
        )
