"""Refunds through the payment gateway (docs/architecture.md, "Payments").

A Refund row is stored pending, with its idempotency key, in the transaction that decided it
(orders.services.cancellations); the ledger's reversal is posted there too. `refund_attempt` then
calls the gateway holding no lock and no transaction, with that stored key: a repeated attempt (a
redelivered job, two workers, the retry job) is answered by the gateway with the first refund, so
money goes back once. An unreachable or failing gateway leaves the refund failed with its error
("Refund pending" to people); `refunds_retry` (beat) tries it again with the same key.
"""

import contextlib
import logging
from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from marketplace.payments.gateway import GatewayError, GatewayUnavailable, get_gateway
from marketplace.state import StaleTransition, transition, transition_many
from orders.models import REFUND_MACHINE, Refund, RefundStatus

logger = logging.getLogger(__name__)

# A refund still pending this long after it was stored lost its job (an unreachable broker, a
# worker that died mid-attempt): the retry job attempts it too, with the same key.
STALE_PENDING = timedelta(minutes=10)
RETRY_BATCH = 200


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
