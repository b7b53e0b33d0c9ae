"""Refunds through the payment gateway (docs/architecture.md, "Payments").

`refund_issue` is the one way a refund is decided: in the caller's transaction (a cancellation,
a return, a dispute's decision, a payment that came after its order expired) it checks the
amounts per order line against what the line cost and what was refunded before, stores the
Refund pending with its lines and its idempotency key, posts the ledger's reversal and queues the
gateway call for after the commit. `refund_attempt` then
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
from django.db.models import F, Q, Sum
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger.journal import OrderSplit, journal_order_refunded
from marketplace.money import Money
from marketplace.payments.gateway import GatewayError, GatewayUnavailable, get_gateway
from marketplace.state import StaleTransition, transition, transition_many
from orders.models import REFUND_MACHINE, Order, OrderLine, Refund, RefundLine, RefundStatus

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
    )
    refund_id = refund.pk
    transaction.on_commit(lambda: _enqueue_refund(refund_id))
    return refund


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
