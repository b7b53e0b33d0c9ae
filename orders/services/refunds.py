"""Refunds through the payment gateway (docs/architecture.md, "Payments").

`refund_issue` is the one way a refund of a paid order is decided: in the caller's transaction
(a cancellation, a return, a dispute's decision) it checks the amounts per order line against
what the line cost and what was refunded before, stores the Refund pending with its lines and its
idempotency key, posts the ledger's reversal and queues the gateway call for after the commit.
A payment that came after its orders expired sold nothing: `refund_late_payment` (at the end)
gives it back whole, one Refund per order without lines. `refund_attempt` then
calls the gateway holding no lock and no transaction, with that stored key: a repeated attempt (a
redelivered job, two workers, the retry job) is answered by the gateway with the first refund, so
money goes back once. An unreachable or failing gateway leaves the refund failed with its error
("Refund pending" to people); `refunds_retry` (beat) tries it again with the same key.
"""

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger.journal import (
    OrderSplit,
    journal_late_payment_received,
    journal_late_payment_refunded,
    journal_order_refunded,
)
from marketplace.money import Money, percentage_of
from marketplace.notifications.services import notify
from marketplace.payments.gateway import GatewayError, GatewayUnavailable, get_gateway
from marketplace.state import StaleTransition, transition, transition_many
from orders.models import (
    REFUND_MACHINE,
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
    RefundReason,
    RefundStatus,
)

logger = logging.getLogger(__name__)

# A refund still pending this long after it was stored lost its job (an unreachable broker, a
# worker that died mid-attempt): the retry job attempts it too, with the same key.
STALE_PENDING = timedelta(minutes=10)
RETRY_BATCH = 200


class RefundTooLarge(DomainError):
    code = "refund_too_large"


@dataclass(frozen=True)
class RefundLineInput:
    order_line_id: int
    quantity: int  # units this refund settles (0: money only, e.g. a second partial refund)
    amount_minor: int


@dataclass(frozen=True)
class LineRefundable:
    """What is left to refund on one order line."""

    line: OrderLine
    units: int
    amount_minor: int


def order_split(order: Order) -> OrderSplit:
    """How this seller order's money divides, for the ledger (one owner: paid, refunded)."""
    return OrderSplit(
        seller_id=order.seller_id,
        total=Money(order.total_minor, order.currency),
        commission=Money(order.commission_minor, order.currency),
        shipping=Money(order.shipping_minor, order.currency),
    )


def order_refundable(order: Order) -> dict[int, LineRefundable]:
    """Per order line id: the units and the amount not refunded yet (two queries)."""
    refunded = {
        row["order_line_id"]: row
        for row in RefundLine.objects.filter(order_line__order_id=order.pk)
        .values("order_line_id")
        .annotate(units=Sum("quantity"), amount=Sum("amount_minor"))
    }
    left = {}
    for line in OrderLine.objects.filter(order_id=order.pk):
        done = refunded.get(line.pk, {})
        left[line.pk] = LineRefundable(
            line=line,
            units=line.quantity - (done.get("units") or 0),
            amount_minor=line.line_total_minor - (done.get("amount") or 0),
        )
    return left


def order_shipping_refunded(order: Order) -> int:
    return Refund.objects.filter(order_id=order.pk).aggregate(s=Sum("shipping_minor"))["s"] or 0


def refund_issue(
    *,
    order: Order,
    lines: list[RefundLineInput],
    idempotency_key: str,
    reason: str,
    cancellation=None,
    now: datetime | None = None,
) -> Refund:
    """Decide a refund of `lines` of `order` (see the module docstring). Call inside the
    caller's transaction with the order's row locked (every after-sales path locks it first), so
    two refunds of one order are checked one after the other. The same key again answers with the
    refund already stored. When the refund leaves every line fully refunded, the shipping fee goes
    back with it. Raises RefundTooLarge (nothing written) for a line of another order, or units or
    an amount beyond what is left on a line."""
    now = now or timezone.now()
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    left = order_refundable(order)
    asked: dict[int, RefundLineInput] = {}
    for item in lines:
        if item.order_line_id not in left or item.order_line_id in asked:
            raise RefundTooLarge("That item is not part of this order.", code="line_not_in_order")
        if item.quantity < 0 or item.amount_minor < 0 or not (item.quantity or item.amount_minor):
            raise RefundTooLarge("Each item refunded needs units or an amount.", code="line_empty")
        line_left = left[item.order_line_id]
        if item.quantity > line_left.units:
            raise RefundTooLarge(
                f"Only {line_left.units} of {line_left.line.product_title} can still be refunded.",
                code="quantity_too_large",
            )
        if item.amount_minor > line_left.amount_minor:
            raise RefundTooLarge(
                f"Only {Money(line_left.amount_minor, order.currency)} of "
                f"{line_left.line.product_title} can still be refunded.",
                code="amount_too_large",
            )
        asked[item.order_line_id] = item
    merchandise = sum(item.amount_minor for item in asked.values())
    whole_order_refunded = all(
        line_left.amount_minor == (asked[pk].amount_minor if pk in asked else 0)
        for pk, line_left in left.items()
    )
    shipping = order.shipping_minor - order_shipping_refunded(order) if whole_order_refunded else 0
    if merchandise + shipping <= 0:
        raise RefundTooLarge("There is nothing left to refund.", code="nothing_to_refund")
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                order=order,
                cancellation=cancellation,
                reason=reason,
                amount_minor=merchandise + shipping,
                shipping_minor=shipping,
                currency=order.currency,
                idempotency_key=idempotency_key,
                created_at=now,
            )
    except IntegrityError:
        # The same key stored by a concurrent caller (its transaction committed first): theirs.
        return Refund.objects.get(idempotency_key=idempotency_key)
    RefundLine.objects.bulk_create(
        [
            RefundLine(
                refund=refund,
                order_line_id=item.order_line_id,
                quantity=item.quantity,
                amount_minor=item.amount_minor,
            )
            for item in asked.values()
        ]
    )
    journal_order_refunded(
        refund_id=refund.pk,
        seller_order_id=order.pk,
        split=order_split(order),
        amount=Money(refund.amount_minor, refund.currency),
        commission_part=Money(
            _commission_returned(left, asked) - _commission_returned(left, {}), order.currency
        ),
    )
    refund_id = refund.pk
    transaction.on_commit(lambda: _enqueue_refund(refund_id))
    return refund


def _commission_returned(left: dict[int, LineRefundable], asked: dict) -> int:
    """The platform commission given back once the lines have had refunded what they had before
    plus `asked`: per rate, `percentage_of` what was refunded at that rate, the rule the
    commission was charged by (orders.services.commission). Never decreases as more is refunded,
    and equals the order's commission once every line is refunded in full."""
    refunded_by_rate: dict[int, int] = {}
    for pk, line_left in left.items():
        line = line_left.line
        refunded = line.line_total_minor - line_left.amount_minor
        if pk in asked:
            refunded += asked[pk].amount_minor
        refunded_by_rate[line.commission_bps] = (
            refunded_by_rate.get(line.commission_bps, 0) + refunded
        )
    return sum(percentage_of(total, rate) for rate, total in refunded_by_rate.items())


def refund_whole_order_lines(order: Order) -> list[RefundLineInput]:
    """Every unit and every cent left on the order's lines (a cancellation)."""
    return [
        RefundLineInput(order_line_id=pk, quantity=left.units, amount_minor=left.amount_minor)
        for pk, left in order_refundable(order).items()
        if left.units or left.amount_minor
    ]


def _enqueue_refund(refund_id: int) -> None:
    from orders.tasks import attempt_refund

    try:
        attempt_refund.delay(refund_id)
    except Exception:  # an unreachable broker: the retry job picks the refund up
        logger.exception("Could not enqueue refund %s; the retry job will attempt it.", refund_id)


def refund_attempt(*, refund_id: int, now: datetime | None = None) -> Refund:
    """Ask the gateway for a pending refund. Success: succeeded with the gateway's id. Gateway
    down or refusing: failed with the error and one more attempt counted. A refund already
    succeeded, or failed (the retry job moves it back to pending first), is returned untouched."""
    refund = Refund.objects.select_related("order__checkout").get(pk=refund_id)
    if refund.status != RefundStatus.PENDING:
        return refund
    try:
        result = get_gateway().refund_create(
            payment_id=refund.order.checkout.gateway_payment_id,
            amount_minor=refund.amount_minor,
            idempotency_key=refund.idempotency_key,
        )
    except (GatewayUnavailable, GatewayError) as error:
        logger.warning("Refund %s failed: %s", refund.pk, error)
        _move(
            refund,
            from_status=RefundStatus.PENDING,
            to_status=RefundStatus.FAILED,
            fields={"attempts": F("attempts") + 1, "last_error": str(error)[:300]},
            now=now,
        )
        return refund
    if result.status in {"failed", "canceled"}:
        _move(
            refund,
            from_status=RefundStatus.PENDING,
            to_status=RefundStatus.FAILED,
            fields={"attempts": F("attempts") + 1, "last_error": f"Refund {result.status}."},
            now=now,
        )
        return refund
    if result.status != "succeeded":
        # Stripe may answer "pending" and settle later: the refund stays pending with its id, and
        # the retry job asks again with the same key (the gateway answers with the same refund).
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            attempts=F("attempts") + 1, gateway_refund_id=result.id
        )
        refund.refresh_from_db()
        return refund
    _move(
        refund,
        from_status=[RefundStatus.PENDING, RefundStatus.FAILED],
        to_status=RefundStatus.SUCCEEDED,
        fields={
            "attempts": F("attempts") + 1,
            "gateway_refund_id": result.id,
            "refunded_at": now or timezone.now(),
            "last_error": "",
        },
        now=now,
    )
    return refund


def _move(refund: Refund, *, from_status, to_status, fields, now) -> None:
    # StaleTransition: another attempt finished first (same key: the same refund at the gateway).
    with contextlib.suppress(StaleTransition):
        transition(
            REFUND_MACHINE,
            pk=refund.pk,
            from_status=from_status,
            to_status=to_status,
            fields=fields,
            now=now,
        )
    refund.refresh_from_db()


def refunds_retry(*, now: datetime | None = None) -> list[int]:
    """Try again every failed refund (failed -> pending -> attempt, same key), and pending ones
    never attempted. Two workers split the failed ones (each is moved back to pending by one);
    a pending one attempted twice is refunded once (same key). Returns the ids attempted."""
    now = now or timezone.now()
    failed = list(
        Refund.objects.filter(status=RefundStatus.FAILED)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    moved = transition_many(
        REFUND_MACHINE,
        pks=failed,
        from_status=RefundStatus.FAILED,
        to_status=RefundStatus.PENDING,
        now=now,
    )
    stale = list(
        Refund.objects.filter(Q(status=RefundStatus.PENDING, created_at__lte=now - STALE_PENDING))
        .exclude(pk__in=moved)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:RETRY_BATCH]
    )
    attempted = []
    for pk in [*moved, *stale]:
        refund_attempt(refund_id=pk, now=now)
        attempted.append(pk)
    return attempted


def refunds_retry_selected(*, refund_ids) -> list[int]:
    """The admin's action: try the chosen failed refunds again now (same rule as the job)."""
    moved = transition_many(
        REFUND_MACHINE,
        pks=list(refund_ids),
        from_status=RefundStatus.FAILED,
        to_status=RefundStatus.PENDING,
    )
    for pk in moved:
        refund_attempt(refund_id=pk)
    return moved


# --- Payments that landed after their orders expired --------------------------------------------

# What the shopper reads when a payment is recorded too late (checkout_mark_paid raises it, and
# the expired checkout keeps it as its failure message for the payment page).
LATE_PAYMENT_MESSAGE = (
    "Your reservation expired while the payment went through, so your order was not placed. "
    "The payment is being refunded to your card automatically."
)
# The sweep asks the gateway about expired checkouts this recent (Stripe retries a webhook for
# three days; after that a payment that was not final when its checkout expired has settled).
LATE_PAYMENT_SWEEP_WINDOW = timedelta(days=3)
LATE_PAYMENT_SWEEP_BATCH = 100


class LatePaymentRefused(DomainError):
    code = "late_payment_refused"


def late_payment_refund_key(order_id: int) -> str:
    return f"refund:late-payment:order:{order_id}"


def refund_late_payment(
    *, checkout_id: int, payment_id: str, now: datetime | None = None
) -> list[Refund]:
    """Give back a payment (`payment_id`, succeeded at the gateway) that came after its checkout
    expired: a retry started seconds before the expiry, or a payment that was not final then and
    succeeded later (its webhook). Nothing was sold, so there is nothing for `refund_issue` to
    check: in one transaction, under the checkout's row lock, each expired order of the checkout
    gets one Refund of its total (reason late_payment, key `refund:late-payment:order:<order id>`,
    no lines), the ledger records the cash coming in and going back (journal_late_payment_*),
    the checkout keeps the payment's id (the refund is made against it) and the shopper's
    message, and the buyer is emailed once; the gateway is called after commit.

    Called again (a replayed webhook, the retry path and the webhook both, the sweep) it stores
    nothing more and returns the refunds already stored. Raises LatePaymentRefused, writing
    nothing, for a checkout that has not expired (a paid checkout's refunds go through
    refund_issue; one still waiting for payment is released first by the caller), and for a
    second, different payment of a checkout whose late payment was already refunded (staff must
    look: it is logged, and the webhook event fails visibly)."""
    now = now or timezone.now()
    if not payment_id:
        raise LatePaymentRefused(
            "A late payment cannot be refunded without its payment id.", code="payment_id_missing"
        )
    with transaction.atomic():
        checkout = Checkout.objects.select_for_update().select_related("buyer").get(pk=checkout_id)
        if checkout.status != CheckoutStatus.EXPIRED:
            raise LatePaymentRefused(
                f"Checkout {checkout.pk} is {checkout.get_status_display().lower()}, not expired: "
                "there is no late payment to refund.",
                code="checkout_not_expired",
            )
        # Cancelled without ever being paid: what the expiry (or a release) left.
        orders = list(
            Order.objects.filter(
                checkout=checkout, status=OrderStatus.CANCELLED, paid_at__isnull=True
            )
            .select_related("seller")
            .order_by("id")
        )
        keys = {order.pk: late_payment_refund_key(order.pk) for order in orders}
        stored = {
            refund.order_id: refund
            for refund in Refund.objects.filter(idempotency_key__in=keys.values())
        }
        if stored and checkout.gateway_payment_id != payment_id:
            logger.error(
                "Checkout %s: payment %s succeeded after late payment %s was refunded; "
                "refund it by hand.",
                checkout.pk,
                payment_id,
                checkout.gateway_payment_id,
            )
            raise LatePaymentRefused(
                f"Checkout {checkout.pk} already had its late payment "
                f"{checkout.gateway_payment_id} refunded; payment {payment_id} is a second one "
                "and needs a refund by hand.",
                code="second_late_payment",
            )
        if not orders:
            raise LatePaymentRefused(
                f"Checkout {checkout.pk} has no expired order to refund.", code="nothing_to_refund"
            )
        if (checkout.gateway_payment_id, checkout.failure_message) != (
            payment_id,
            LATE_PAYMENT_MESSAGE,
        ):
            # The stored id may be an earlier attempt's (a declined card's): the refund must name
            # the payment that took the money. The message is what the payment page shows.
            Checkout.objects.filter(pk=checkout.pk).update(
                gateway_payment_id=payment_id, failure_message=LATE_PAYMENT_MESSAGE
            )
        refunds = []
        for order in orders:
            refund = stored.get(order.pk)
            if refund is None and order.total_minor > 0:
                refund = _late_payment_refund_store(order=order, key=keys[order.pk], now=now)
            if refund is not None:
                refunds.append(refund)
        if refunds:
            _notify_late_payment_refunded(checkout=checkout, orders=orders, refunds=refunds)
    return refunds


def _late_payment_refund_store(*, order: Order, key: str, now: datetime) -> Refund:
    amount = Money(order.total_minor, order.currency)
    refund = Refund.objects.create(
        order=order,
        reason=RefundReason.LATE_PAYMENT,
        amount_minor=amount.amount_minor,
        # The whole order goes back, its shipping fee with it.
        shipping_minor=order.shipping_minor,
        currency=order.currency,
        idempotency_key=key,
        created_at=now,
    )
    journal_late_payment_received(seller_order_id=order.pk, amount=amount)
    journal_late_payment_refunded(seller_order_id=order.pk, amount=amount)
    refund_id = refund.pk
    transaction.on_commit(lambda: _enqueue_refund(refund_id))
    return refund


def _notify_late_payment_refunded(*, checkout: Checkout, orders: list[Order], refunds) -> None:
    by_order = {refund.order_id: refund for refund in refunds}
    total = sum(refund.amount_minor for refund in refunds)
    notify(
        kind="order.late_payment_refunded.buyer",
        key=f"late-payment-refunded:{checkout.pk}:buyer",
        to_email=checkout.buyer.email,
        user=checkout.buyer,
        about=f"checkout:{checkout.pk}",
        subject_template="orders/email/late_payment_refunded_subject.txt",
        body_template="orders/email/late_payment_refunded.txt",
        context={
            "total": str(Money(total, checkout.currency)),
            "orders": [
                {
                    "number": order.number,
                    "shop_name": order.seller.shop_name,
                    "total": str(Money(order.total_minor, order.currency)),
                }
                for order in orders
                if order.pk in by_order
            ],
        },
    )


def late_payments_sweep(*, now: datetime | None = None) -> list[int]:
    """The beat job's backstop (`orders.tasks.refund_late_payments`): the retry path and the
    `payment_intent.succeeded` webhook refund a late payment as they find it; this catches one
    they missed (a process that died in between, a webhook lost for good).

    Candidates: checkouts expired within LATE_PAYMENT_SWEEP_WINDOW with a payment id stored, an
    attempt that was not a decline (`payment_attempts > declines`: a checkout whose every attempt
    was declined only holds a declined payment's id), and no late-payment refund yet. A stored id
    alone does not say the money was taken, so each is asked from the gateway, holding no lock
    and no transaction; only a payment that succeeded for the checkout's amount is refunded
    (refund_late_payment: once, whatever runs at the same time). Returns the checkout ids
    refunded."""
    now = now or timezone.now()
    candidates = list(
        Checkout.objects.filter(
            status=CheckoutStatus.EXPIRED,
            created_at__gte=now - LATE_PAYMENT_SWEEP_WINDOW,
            payment_attempts__gt=F("declines"),
        )
        .exclude(gateway_payment_id="")
        .exclude(
            Exists(
                Refund.objects.filter(
                    order__checkout_id=OuterRef("pk"), reason=RefundReason.LATE_PAYMENT
                )
            )
        )
        .order_by("created_at", "id")
        .values_list("pk", "gateway_payment_id", "total_minor", "currency")[
            :LATE_PAYMENT_SWEEP_BATCH
        ]
    )
    refunded = []
    gateway = get_gateway()
    for checkout_id, payment_id, total_minor, currency in candidates:
        try:
            payment = gateway.payment_retrieve(payment_id=payment_id)
        except (GatewayUnavailable, GatewayError) as error:
            logger.warning("Late payment check of checkout %s failed: %s", checkout_id, error)
            continue
        if payment.status != "succeeded":
            continue
        if (payment.amount_minor, payment.currency.upper()) != (total_minor, currency):
            logger.error(
                "Checkout %s: payment %s does not match its total; not refunded automatically.",
                checkout_id,
                payment_id,
            )
            continue
        try:
            refund_late_payment(checkout_id=checkout_id, payment_id=payment_id, now=now)
        except LatePaymentRefused as refusal:
            logger.warning("Late payment of checkout %s: %s", checkout_id, refusal.message)
            continue
        refunded.append(checkout_id)
    return refunded
