"""Stripe events about checkout payments (registered from OrdersConfig.ready()).

The synchronous answer of payment_create usually settles a checkout; these handlers cover the
payments that were not final then (3-D Secure, `processing`) and a lost answer. Both only move a
checkout forward (open/failed -> paid, open -> failed) through compare-and-swap services, so a
late or repeated event changes nothing. A payment that succeeds after its checkout expired is
refunded automatically (orders.services.refunds.refund_late_payment, once however often the
event comes).
"""

from marketplace.errors import DomainError
from marketplace.payments.gateway import PaymentResult
from marketplace.payments.webhooks import StripeEvent, webhook_handler_register
from orders.models import Checkout, CheckoutStatus
from orders.services.checkout import checkout_mark_failed, checkout_mark_paid
from orders.services.refunds import refund_late_payment

LATE_PAYMENT_NOTE = "orders expired before the payment: refunded automatically"


def _checkout_for(payment: dict) -> Checkout | None:
    metadata = payment.get("metadata") or {}
    checkout_id = str(metadata.get("checkout_id") or "")
    group = str(payment.get("transfer_group") or "")
    if not checkout_id and group.startswith("checkout-"):
        checkout_id = group.removeprefix("checkout-")
    if not checkout_id.isdigit():
        return None
    return Checkout.objects.select_related("buyer").filter(id=int(checkout_id)).first()


@webhook_handler_register("payment_intent.succeeded")
def payment_intent_succeeded(event: StripeEvent) -> str | None:
    payment = event.object
    checkout = _checkout_for(payment)
    if checkout is None:
        return "not a checkout payment"
    if checkout.status == CheckoutStatus.PAID:
        return "already paid"
    amount, currency = int(payment.get("amount") or 0), str(payment.get("currency") or "").upper()
    if (amount, currency) != (checkout.total_minor, checkout.currency):
        raise DomainError(f"Payment {payment.get('id')} does not match checkout {checkout.id}.")
    result = PaymentResult(
        id=str(payment["id"]),
        status="succeeded",
        amount_minor=amount,
        currency=currency,
        charge_id=str(payment.get("latest_charge") or ""),
    )
    if checkout.status == CheckoutStatus.EXPIRED:
        refund_late_payment(checkout_id=checkout.id, payment_id=result.id)
        return LATE_PAYMENT_NOTE
    try:
        # It may expire meanwhile: checkout_mark_paid then refunds the payment itself.
        checkout_mark_paid(checkout=checkout, payment=result)
    except DomainError as error:
        if error.code == "checkout_expired":
            return LATE_PAYMENT_NOTE
        raise
    return None


@webhook_handler_register("payment_intent.payment_failed")
def payment_intent_payment_failed(event: StripeEvent) -> str | None:
    payment = event.object
    checkout = _checkout_for(payment)
    if checkout is None:
        return "not a checkout payment"
    if checkout.status != CheckoutStatus.OPEN:
        return "stale"
    error = payment.get("last_payment_error") or {}
    checkout_mark_failed(
        checkout=checkout,
        message=str(error.get("message") or "The payment failed. Nothing was charged."),
        payment_id=str(payment.get("id") or ""),
    )
    return None
