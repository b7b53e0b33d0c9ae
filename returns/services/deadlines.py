"""Deadlines that run themselves (returns.tasks.run_return_deadlines, every 5 minutes), and the
condition orders asks to know whether an order still has a return open.

- A new request the seller did not answer by `respond_by` is approved (RETURN_SELLER_RESPONSE_HOURS).
- A partial offer the buyer did not answer by `offer_expires_at` closes.
- An approved return not shipped back by `ship_back_by` closes (RETURN_BUYER_SHIP_DAYS).
- A delivered return the seller did not confirm by `confirm_receipt_by` is refunded.
- A return parcel not delivered RETURN_PARCEL_LOST_DAYS after it was sent goes to the
  marketplace as a dispute (lost, or stuck): neither side is left waiting for ever.

Each request is handled in its own transaction through the same service a person uses (order row
locked, compare-and-swap on the request), so a job racing a click, or a second worker, finds the
request moved and does nothing; one failure does not hold back the others.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from marketplace.errors import DomainError
from returns.models import OPEN_STATUSES, Party, ReturnRequest, ReturnStatus
from returns.services.common import locked_request, move, tell
from returns.services.requests import return_approve
from returns.services.shipping import return_confirm_receipt

logger = logging.getLogger(__name__)

BATCH_SIZE = 200


def open_return_condition() -> Exists:
    """Registered with orders (orders.services.deadlines.open_after_sales_condition): an order
    with an open return request does not complete."""
    return Exists(
        ReturnRequest.objects.filter(order=OuterRef("pk"), status__in=list(OPEN_STATUSES))
    )


def _due(status: str, deadline: str, now: datetime) -> list[int]:
    return list(
        ReturnRequest.objects.filter(status=status, **{f"{deadline}__lte": now})
        .order_by(deadline, "id")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )


def _each(pks: list[int], step, what: str) -> list[int]:
    done = []
    for pk in pks:
        try:
            step(pk)
        except DomainError as error:  # moved meanwhile by a person or another worker
            logger.info("Return request %s not %s: %s", pk, what, error)
            continue
        done.append(pk)
    return done


def returns_auto_approve(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return _each(
        _due(ReturnStatus.REQUESTED, "respond_by", now),
        lambda pk: return_approve(request_id=pk, now=now, auto=True),
        "approved",
    )


def _close(pk: int, *, from_status: str, deadline: str, reason: str, now: datetime) -> None:
    with transaction.atomic():
        request = locked_request(request_id=pk)
        if request.status != from_status or getattr(request, deadline) > now:
            raise DomainError("Moved meanwhile.", code="moved")
        move(
            request,
            from_status=from_status,
            to_status=ReturnStatus.CLOSED,
            message=reason,
            fields={"close_reason": reason},
            now=now,
        )
        for to in ("buyer", "seller"):
            tell(
                request,
                event="closed",
                to=to,
                title=f"Request {request.number} is closed",
                message=reason,
            )


def returns_close_unanswered_offers(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    reason = "The partial refund offer was not answered in time."
    return _each(
        _due(ReturnStatus.PARTIAL_REFUND_OFFERED, "offer_expires_at", now),
        lambda pk: _close(
            pk,
            from_status=ReturnStatus.PARTIAL_REFUND_OFFERED,
            deadline="offer_expires_at",
            reason=reason,
            now=now,
        ),
        "closed",
    )


def returns_close_unshipped(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    reason = "The item was not sent back in time."
    return _each(
        _due(ReturnStatus.AWAITING_BUYER_SHIPMENT, "ship_back_by", now),
        lambda pk: _close(
            pk,
            from_status=ReturnStatus.AWAITING_BUYER_SHIPMENT,
            deadline="ship_back_by",
            reason=reason,
            now=now,
        ),
        "closed",
    )


def returns_auto_receive(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return _each(
        _due(ReturnStatus.BUYER_SHIPPED, "confirm_receipt_by", now),
        lambda pk: return_confirm_receipt(request_id=pk, now=now, auto=True),
        "refunded",
    )


def _escalate_lost(pk: int, *, cutoff: datetime, now: datetime) -> None:
    from returns.services.disputes import dispute_open

    with transaction.atomic():
        request = locked_request(request_id=pk)
        shipment = request.return_shipment
        if (
            request.status != ReturnStatus.BUYER_SHIPPED
            or request.return_delivered_at is not None
            or shipment is None
            or shipment.created_at > cutoff
        ):
            raise DomainError("Moved meanwhile.", code="moved")
        dispute_open(
            request,
            party=Party.STAFF,
            user=None,
            statement="",
            from_status=ReturnStatus.BUYER_SHIPPED,
            now=now,
            message=(
                f"The return parcel has not arrived {settings.RETURN_PARCEL_LOST_DAYS} days after "
                "it was sent: the marketplace will decide."
            ),
        )


def returns_escalate_lost_parcels(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.RETURN_PARCEL_LOST_DAYS)
    pks = list(
        ReturnRequest.objects.filter(
            status=ReturnStatus.BUYER_SHIPPED,
            return_delivered_at__isnull=True,
            return_shipment__created_at__lte=cutoff,
        )
        .order_by("return_shipment__created_at", "id")
        .values_list("pk", flat=True)[:BATCH_SIZE]
    )
    return _each(pks, lambda pk: _escalate_lost(pk, cutoff=cutoff, now=now), "escalated")


def returns_run_deadlines(*, now: datetime | None = None) -> dict[str, int]:
    """Every deadline job once; returns how many requests each moved."""
    now = now or timezone.now()
    return {
        "approved": len(returns_auto_approve(now=now)),
        "offers_closed": len(returns_close_unanswered_offers(now=now)),
        "unshipped_closed": len(returns_close_unshipped(now=now)),
        "refunded": len(returns_auto_receive(now=now)),
        "lost_parcels_escalated": len(returns_escalate_lost_parcels(now=now)),
    }
