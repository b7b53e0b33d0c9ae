"""What every after-sales step shares: the errors, the lock order, the refund of a request, the
release of its lines, and the emails (docs/architecture.md, "Returns, refunds and disputes").

Lock order, everywhere: the order's row first (as cancellations and the tracking job do), then
the request's row through its compare-and-swap. So a seller's click, the buyer's click, a
deadline job and a tracking update on the same order wait for each other instead of deadlocking,
and the second of two identical actions finds the request moved and writes nothing.
"""

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.money import Money, allocate
from marketplace.notifications.services import notify
from marketplace.state import StaleTransition, transition
from orders.models import Order, RefundReason
from orders.services.refunds import RefundLineInput, refund_issue
from returns.models import (
    OPEN_STATUSES,
    RETURN_MACHINE,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
)

TEXT_MAX_LENGTH = 2000


class ReturnRefused(DomainError):
    code = "return_refused"


class ReturnNotFound(DomainError):
    code = "return_not_found"


def when_text(moment: datetime | None) -> str:
    """A deadline as people read it in messages and emails: "Dec 2, 2026 14:05 UTC"."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%b} {local.day}, {local:%Y %H:%M %Z}"


def clean_text(text: str | None, *, limit: int = TEXT_MAX_LENGTH) -> str:
    return (text or "").replace("\x00", "").strip()[:limit]


def locked_request(*, request_id: int, buyer=None, seller=None) -> ReturnRequest:
    """The request (another buyer's or seller's answers ReturnNotFound), with its order's row
    locked first. Call inside transaction.atomic()."""
    rows = ReturnRequest.objects.select_related("order", "seller", "buyer")
    if buyer is not None:
        rows = rows.filter(buyer=buyer)
    if seller is not None:
        rows = rows.filter(seller=seller)
    order_id = rows.filter(pk=request_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ReturnNotFound("No such request.")
    Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True).first()
    return rows.get(pk=request_id)


def already_moved(request: ReturnRequest) -> ReturnRefused:
    """The refusal for an action on a request that is no longer where the action starts."""
    request.refresh_from_db(fields=["status"])
    return ReturnRefused(
        f"This request has moved on: it is now {request.get_status_display().lower()}. "
        "Reload the page to see where it stands.",
        code="already_moved",
    )


def move(
    request: ReturnRequest,
    *,
    to_status: str,
    from_status=None,
    actor=None,
    message="",
    fields=None,
    now: datetime,
) -> None:
    """One compare-and-swap of the request; a request that moved meanwhile is refused with where
    it stands. Leaving the open statuses releases its lines in the same transaction."""
    try:
        transition(
            RETURN_MACHINE,
            instance=request,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            message=message,
            fields=fields,
            now=now,
        )
    except StaleTransition:
        raise already_moved(request) from None
    if to_status not in OPEN_STATUSES:
        ReturnRequestLine.objects.filter(request=request, holds_line=True).update(holds_line=False)


def refund_request(
    request: ReturnRequest, *, amount_minor: int, actor=None, message: str, now: datetime
) -> None:
    """Refund `amount_minor` of the request (its full value or an agreed part), split over its
    lines by largest remainder on what each line's units cost, through orders' refund_issue with
    the key `refund:return:<request id>`; then the request is refunded. Called with the order
    locked and the request in a status that may move to refunded."""
    if not 0 < amount_minor <= request.requested_amount_minor:
        raise ReturnRefused(
            f"The refund must be between {Money(1, request.currency)} and "
            f"{Money(request.requested_amount_minor, request.currency)}.",
            code="amount_out_of_range",
        )
    lines = list(request.lines.all())
    parts = allocate(amount_minor, [line.amount_minor for line in lines])
    refund = refund_issue(
        order=request.order,
        lines=[
            RefundLineInput(
                order_line_id=line.order_line_id, quantity=line.quantity, amount_minor=part
            )
            for line, part in zip(lines, parts, strict=True)
        ],
        idempotency_key=f"refund:return:{request.pk}",
        reason=RefundReason.RETURN,
        now=now,
    )
    move(
        request,
        to_status=ReturnStatus.REFUNDED,
        actor=actor,
        message=message,
        fields={"refund": refund},
        now=now,
    )
    tell(
        request,
        event="refunded",
        to="buyer",
        title=f"{Money(refund.amount_minor, refund.currency)} is on its way back to you",
        message=(
            f"We are refunding {Money(refund.amount_minor, refund.currency)} for request "
            f"{request.number} to the card you paid with. Your bank decides how long it takes "
            "to appear."
        ),
    )


def request_url(request: ReturnRequest, *, to: str) -> str:
    if to == "buyer":
        return reverse("returns:detail", args=[request.pk])
    return reverse("seller_returns:detail", args=[request.pk])


def tell(request: ReturnRequest, *, event: str, to: str, title: str, message: str) -> None:
    """Store one email about the request for the buyer or the seller (sent by the notification
    job once committed). The key names the request, the event and the reader, so a retried step
    stores nothing twice."""
    order = request.order
    if to == "buyer":
        email, user = request.buyer.email, request.buyer
    else:
        email, user = request.seller.contact_email, None
    if not email:
        return
    notify(
        kind=f"return.{event}.{to}",
        key=f"return-{event}:{request.pk}:{to}",
        to_email=email,
        user=user,
        about=f"return:{request.pk}",
        subject_template="returns/email/request_update_subject.txt",
        body_template="returns/email/request_update.txt",
        context={
            "number": request.number,
            "order_number": order.number,
            "shop_name": request.seller.shop_name,
            "title": title,
            "message": message,
            "path": request_url(request, to=to),
            "to": to,
        },
    )


def on_commit_register_parcel(carrier: str, tracking_number: str, shipped_at: datetime) -> None:
    from orders.carriers import carrier_adapter

    def register():
        carrier_adapter(carrier).register_shipment(
            tracking_number=tracking_number, shipped_at=shipped_at
        )

    transaction.on_commit(register, robust=True)
