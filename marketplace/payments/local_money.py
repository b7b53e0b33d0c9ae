"""Money movement at the local test-mode gateway: payments, transfers, refunds, transfer reversals.

`LocalGateway` delegates here. The rules copy Stripe's where a caller could notice a difference:
test card numbers decide a payment's outcome, an idempotency key replays the first result (and is
refused for a different request), a transfer needs an onboarded destination and cannot take more
than its source charge holds, and refunds and reversals cannot exceed what is left.

Test cards (spaces and dashes are ignored):
- 4242 4242 4242 4242, or any other valid 16-digit number: succeeds
- 4000 0000 0000 0002: declined (card_declined)
- 4000 0000 0000 9995: declined (insufficient_funds)
- 4000 0000 0000 0069: declined (expired_card)
- not 16 digits, or failing the Luhn check: declined (incorrect_number)
"""

import os
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import Sum

from marketplace.money import CURRENCY_EXPONENTS, Money
from marketplace.payments.gateway import (
    GatewayError,
    PaymentDeclined,
    PaymentResult,
    RefundResult,
    TransferResult,
    TransferReversalResult,
)
from marketplace.payments.models import (
    LocalConnectedAccount,
    LocalPayment,
    LocalRefund,
    LocalTransfer,
    LocalTransferReversal,
)

SUCCEEDING_TEST_CARD = "4242424242424242"
DECLINING_TEST_CARDS: dict[str, tuple[str, str]] = {
    "4000000000000002": ("card_declined", "Your card was declined."),
    "4000000000009995": ("insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", "Your card has expired."),
}
INCORRECT_NUMBER = ("incorrect_number", "Your card number is incorrect.")

Row = TypeVar("Row", bound=models.Model)


def card_number_normalise(number: str) -> str:
    """Digits as people type them, without the spaces and dashes that group them."""
    return "".join((number or "").split()).replace("-", "")


def is_ascii_digits(text: str) -> bool:
    """0-9 only: str.isdigit() also accepts other scripts' digits (Arabic-Indic, full-width...),
    which int() reads as numbers, so a card typed in them would pass a Luhn check."""
    return text.isascii() and text.isdigit()


def luhn_valid(digits: str) -> bool:
    if not is_ascii_digits(digits):
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_outcome(number: str) -> tuple[str, str] | None:
    """(decline code, message) for a card that is refused, None for one that pays."""
    digits = card_number_normalise(number)
    if len(digits) != 16 or not luhn_valid(digits):
        return INCORRECT_NUMBER
    return DECLINING_TEST_CARDS.get(digits)


def _new_id(prefix: str) -> str:
    return f"{prefix}_local_{secrets.token_hex(12)}"


def _check_amount(amount_minor: int) -> None:
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise GatewayError("The amount must be a positive whole number of minor units.")


def _check_currency(currency: str) -> str:
    currency = (currency or "").upper()
    if currency not in CURRENCY_EXPONENTS:
        raise GatewayError(f"Unsupported currency {currency!r}.", code="invalid_currency")
    return currency


def _key_reused() -> GatewayError:
    return GatewayError(
        "This idempotency key was already used for a different request.",
        code="idempotency_key_reused",
    )


def _create_once(model: type[Row], *, idempotency_key: str, create: Callable[[], Row]) -> Row:
    """The row for `idempotency_key`: the existing one, or the one `create` writes. `create`
    runs in a transaction; when a concurrent call with the same key wins the race, its row is
    returned instead (the unique key is the arbiter, not the check before it)."""
    existing = model.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        existing = model.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing


def _payment_result(payment: LocalPayment) -> PaymentResult:
    return PaymentResult(
        id=payment.external_id,
        status=payment.status,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        charge_id=payment.charge_id,
    )


def local_payment_create(
    *,
    amount_minor: int,
    currency: str,
    transfer_group: str,
    idempotency_key: str,
    payment_method: str,
    description: str = "",
    metadata: dict[str, str] | None = None,
) -> PaymentResult:
    """Charge a test card. A declined card is recorded as a failed payment and raises
    PaymentDeclined; the same key raises the same decline again without a second row."""
    _check_amount(amount_minor)
    currency = _check_currency(currency)
    digits = card_number_normalise(payment_method)
    outcome = card_outcome(digits)
    card_last4 = digits[-4:] if is_ascii_digits(digits) else ""

    def create() -> LocalPayment:
        code, message = outcome or ("", "")
        return LocalPayment.objects.create(
            external_id=_new_id("pi"),
            charge_id=_new_id("ch"),
            idempotency_key=idempotency_key,
            amount_minor=amount_minor,
            currency=currency,
            status=LocalPayment.Status.FAILED if outcome else LocalPayment.Status.SUCCEEDED,
            failure_code=code,
            failure_message=message,
            card_last4=card_last4,
            transfer_group=transfer_group,
            description=description[:255],
            metadata=dict(metadata or {}),
        )

    payment = _create_once(LocalPayment, idempotency_key=idempotency_key, create=create)
    if (payment.amount_minor, payment.currency, payment.card_last4) != (
        amount_minor,
        currency,
        card_last4,
    ):
        raise _key_reused()
    if payment.status == LocalPayment.Status.FAILED:
        raise PaymentDeclined(
            payment.failure_message,
            decline_code=payment.failure_code,
            payment_id=payment.external_id,
        )
    return _payment_result(payment)


def local_payment_retrieve(*, payment_id: str) -> PaymentResult:
    payment = LocalPayment.objects.filter(external_id=payment_id).first()
    if payment is None:
        raise GatewayError(f"No such payment: {payment_id!r}.", code="resource_missing")
    return _payment_result(payment)


def local_transfer_create(
    *,
    amount_minor: int,
    currency: str,
    destination: str,
    source_transaction: str,
    transfer_group: str,
    idempotency_key: str,
) -> TransferResult:
    """Raises GatewayError (nothing written) for an unknown or not yet onboarded destination, an
    unknown or failed source charge, another currency, or more than the source charge has left."""
    _check_amount(amount_minor)
    currency = _check_currency(currency)

    def create() -> LocalTransfer:
        account = LocalConnectedAccount.objects.filter(external_id=destination).first()
        if account is None:
            raise GatewayError(f"No such destination: {destination!r}.", code="resource_missing")
        if not account.details_submitted:
            raise GatewayError(
                "The destination account has not finished onboarding, so it cannot receive "
                "transfers yet.",
                code="account_not_onboarded",
            )
        source = None
        if source_transaction:
            # Locked, so two transfers out of one charge cannot both see the same room left.
            source = (
                LocalPayment.objects.select_for_update()
                .filter(charge_id=source_transaction)
                .first()
            )
            if source is None or source.status != LocalPayment.Status.SUCCEEDED:
                raise GatewayError(
                    f"No such charge to fund the transfer: {source_transaction!r}.",
                    code="resource_missing",
                )
            if source.currency != currency:
                raise GatewayError("The transfer's currency differs from its source charge's.")
            transferred = source.transfers.aggregate(total=Sum("amount_minor"))["total"] or 0
            left = source.amount_minor - transferred
            if amount_minor > left:
                raise GatewayError(
                    f"The transfer ({Money(amount_minor, currency)}) exceeds what is left of "
                    f"its source charge ({Money(left, currency)}).",
                    code="amount_too_large",
                )
        return LocalTransfer.objects.create(
            external_id=_new_id("tr"),
            idempotency_key=idempotency_key,
            amount_minor=amount_minor,
            currency=currency,
            destination=account,
            source_payment=source,
            transfer_group=transfer_group,
        )

    transfer = _create_once(LocalTransfer, idempotency_key=idempotency_key, create=create)
    _transfer_test_delay()
    if (transfer.amount_minor, transfer.currency, transfer.destination.external_id) != (
        amount_minor,
        currency,
        destination,
    ):
        raise _key_reused()
    return TransferResult(
        id=transfer.external_id,
        amount_minor=transfer.amount_minor,
        destination=transfer.destination.external_id,
    )


# Tests only: the payout kill -9 test (tests/sellers/test_payout_worker_kill.py) sets this in a
# worker's environment to hold each transfer this many milliseconds after it is written and before
# the answer returns, the window in which a crash leaves a transfer its caller never heard of.
TRANSFER_DELAY_ENV = "LOCAL_GATEWAY_TEST_TRANSFER_DELAY_MS"


def _transfer_test_delay() -> None:
    delay_ms = int(os.environ.get(TRANSFER_DELAY_ENV) or 0)
    if delay_ms > 0:
        time.sleep(delay_ms / 1000)


def local_refund_create(
    *, payment_id: str, amount_minor: int, idempotency_key: str
) -> RefundResult:
    """Raises GatewayError (nothing written) for an unknown or failed payment or an amount above
    the payment minus its earlier refunds."""
    _check_amount(amount_minor)

    def create() -> LocalRefund:
        payment = LocalPayment.objects.select_for_update().filter(external_id=payment_id).first()
        if payment is None or payment.status != LocalPayment.Status.SUCCEEDED:
            raise GatewayError(
                f"No such payment to refund: {payment_id!r}.", code="resource_missing"
            )
        refunded = payment.refunds.aggregate(total=Sum("amount_minor"))["total"] or 0
        left = payment.amount_minor - refunded
        if amount_minor > left:
            raise GatewayError(
                f"The refund ({Money(amount_minor, payment.currency)}) exceeds what is left of "
                f"the payment ({Money(left, payment.currency)}).",
                code="amount_too_large",
            )
        return LocalRefund.objects.create(
            external_id=_new_id("re"),
            idempotency_key=idempotency_key,
            payment=payment,
            amount_minor=amount_minor,
        )

    refund = _create_once(LocalRefund, idempotency_key=idempotency_key, create=create)
    if (refund.payment.external_id, refund.amount_minor) != (payment_id, amount_minor):
        raise _key_reused()
    return RefundResult(
        id=refund.external_id, amount_minor=refund.amount_minor, status=refund.status
    )


def local_transfer_reversal_create(
    *, transfer_id: str, amount_minor: int, idempotency_key: str
) -> TransferReversalResult:
    """Raises GatewayError (nothing written) for an unknown transfer or an amount above the
    transfer minus its earlier reversals."""
    _check_amount(amount_minor)

    def create() -> LocalTransferReversal:
        transfer = LocalTransfer.objects.select_for_update().filter(external_id=transfer_id).first()
        if transfer is None:
            raise GatewayError(f"No such transfer: {transfer_id!r}.", code="resource_missing")
        reversed_so_far = transfer.reversals.aggregate(total=Sum("amount_minor"))["total"] or 0
        left = transfer.amount_minor - reversed_so_far
        if amount_minor > left:
            raise GatewayError(
                f"The reversal ({Money(amount_minor, transfer.currency)}) exceeds what is left "
                f"of the transfer ({Money(left, transfer.currency)}).",
                code="amount_too_large",
            )
        return LocalTransferReversal.objects.create(
            external_id=_new_id("trr"),
            idempotency_key=idempotency_key,
            transfer=transfer,
            amount_minor=amount_minor,
        )

    reversal = _create_once(LocalTransferReversal, idempotency_key=idempotency_key, create=create)
    if (reversal.transfer.external_id, reversal.amount_minor) != (transfer_id, amount_minor):
        raise _key_reused()
    return TransferReversalResult(id=reversal.external_id, amount_minor=reversal.amount_minor)
