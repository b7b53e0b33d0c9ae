"""Asking and answering: the buyer's request, the seller's approval, rejection or partial offer,
the buyer's answer to an offer, and withdrawal (docs/architecture.md, "Returns, refunds and
disputes").

Every step locks the order's row, then moves the request with a compare-and-swap
(returns.services.common). A step repeated (a double-click, two tabs, the seller and the deadline
job at once) either finds its own result and answers with it, or is refused with where the
request stands; nothing happens twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.money import Money
from orders.models import Order, OrderLine, OrderStatus
from orders.services.refunds import order_refundable
from returns.models import (
    REASONS_BY_KIND,
    EvidenceStage,
    Party,
    RequestKind,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
)
from returns.services.common import (
    ReturnNotFound,
    ReturnRefused,
    clean_text,
    locked_request,
    move,
    refund_request,
    tell,
    when_text,
)
from returns.services.evidence import evidence_check, evidence_record, evidence_stored

RETURNABLE_ORDER_STATUSES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


class LineAlreadyRequested(ReturnRefused):
    """A line is held by another open request: the page sends the buyer to it."""

    code = "line_already_requested"

    def __init__(self, message: str, *, request_id: int | None):
        super().__init__(message)
        self.request_id = request_id


# --- The rules the pages ask too (one owner) ---------------------------------------------------


def return_window_ends_at(order: Order) -> datetime | None:
    """The last moment the buyer may ask: the shop's return window (as it was when the order was
    placed) after delivery."""
    if order.delivered_at is None:
        return None
    days = order.return_window_days or order.seller.return_window_days
    return order.delivered_at + timedelta(days=days)


def order_accepts_requests(order: Order, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    ends = return_window_ends_at(order)
    return order.status in RETURNABLE_ORDER_STATUSES and ends is not None and now <= ends


@dataclass(frozen=True)
class ReturnableLine:
    line: OrderLine
    units: int  # units that may be asked about now
    held_by: int | None  # the open request holding the line, if any


def order_returnable_lines(order: Order) -> list[ReturnableLine]:
    """Each line of the order with the units the buyer may still ask about: bought, less what
    was refunded, and none while another open request holds the line (three queries)."""
    held = dict(
        ReturnRequestLine.objects.filter(
            order_line__order_id=order.pk, holds_line=True
        ).values_list("order_line_id", "request_id")
    )
    return [
        ReturnableLine(
            line=left.line,
            units=0 if pk in held else left.units,
            held_by=held.get(pk),
        )
        for pk, left in order_refundable(order).items()
    ]


def request_replaced_by(request: ReturnRequest) -> ReturnRequest | None:
    """A newer open request holding one of this (rejected or declined) request's lines: this one
    can no longer be escalated (returns.services.disputes refuses it), the pages say so."""
    if request.is_open:
        return None
    holder = (
        ReturnRequestLine.objects.filter(
            order_line_id__in=request.lines.values("order_line_id"), holds_line=True
        )
        .exclude(request_id=request.pk)
        .values_list("request_id", flat=True)
        .first()
    )
    return ReturnRequest.objects.filter(pk=holder).first() if holder else None


# --- The buyer asks ----------------------------------------------------------------------------


def return_request_create(
    *,
    order_id: int,
    buyer,
    kind: str,
    reason: str,
    description: str = "",
    quantities: dict[int, int],
    photos=(),
    now: datetime | None = None,
) -> ReturnRequest:
    """The buyer asks about `quantities` (order line id -> units) of one delivered order inside
    its return window. Raises ReturnNotFound for another buyer's order, ReturnRefused (nothing
    written, no file kept) for a reason that does not fit the kind, no units, more units than
    bought less those refunded, a line another open request holds (LineAlreadyRequested), a bad
    photo, or an order outside its window."""
    now = now or timezone.now()
    if kind not in REASONS_BY_KIND:
        raise ReturnRefused("Choose a refund only or a return and refund.", code="invalid_kind")
    if reason not in REASONS_BY_KIND[kind]:
        raise ReturnRefused("Choose one of the reasons listed.", code="invalid_reason")
    description = clean_text(description)
    quantities = {pk: qty for pk, qty in quantities.items() if qty}
    if not quantities:
        raise ReturnRefused("Choose at least one item and how many.", code="no_items")
    if any(not isinstance(qty, int) or qty < 0 for qty in quantities.values()):
        raise ReturnRefused("Quantities are whole numbers of items.", code="invalid_quantity")
    order = Order.objects.select_related("seller", "buyer").filter(pk=order_id, buyer=buyer).first()
    if order is None:
        raise ReturnNotFound("No such order.")
    if not order_accepts_requests(order, now=now):
        raise _window_refusal(order, now=now)
    checked = evidence_check(photos, photos_only=True)

    with evidence_stored(checked, order_id=order.pk) as stored, transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).values_list("pk").first()
        returnable = {item.line.pk: item for item in order_returnable_lines(order)}
        for pk, qty in quantities.items():
            item = returnable.get(pk)
            if item is None:
                raise ReturnNotFound("That item is not part of this order.")
            if item.held_by is not None:
                raise LineAlreadyRequested(
                    f"You already have an open request for {item.line.product_title}.",
                    request_id=item.held_by,
                )
            if qty > item.units:
                raise ReturnRefused(
                    f"You can ask about at most {item.units} of {item.line.product_title}.",
                    code="quantity_too_large",
                )
        lines = [
            ReturnRequestLine(
                order_line=returnable[pk].line,
                quantity=qty,
                amount_minor=returnable[pk].line.unit_price_minor * qty,
            )
            for pk, qty in sorted(quantities.items())
        ]
        request = ReturnRequest.objects.create(
            order=order,
            seller=order.seller,
            buyer=buyer,
            kind=kind,
            reason=reason,
            description=description,
            currency=order.currency,
            requested_amount_minor=sum(line.amount_minor for line in lines),
            respond_by=now + timedelta(hours=settings.RETURN_SELLER_RESPONSE_HOURS),
            created_at=now,
        )
        for line in lines:
            line.request = request
        try:
            with transaction.atomic():
                ReturnRequestLine.objects.bulk_create(lines)
        except IntegrityError:
            # Another request took a line in the same instant (a second tab): send the buyer to it.
            holder = (
                ReturnRequestLine.objects.filter(
                    order_line_id__in=list(quantities), holds_line=True
                )
                .values_list("request_id", flat=True)
                .first()
            )
            raise LineAlreadyRequested(
                "You already have an open request for these items.", request_id=holder
            ) from None
        evidence_record(
            request=request,
            stored=stored,
            party=Party.BUYER,
            stage=EvidenceStage.REQUEST,
            user=buyer,
        )
        tell(
            request,
            event="requested",
            to="seller",
            title=f"New {request.get_kind_display().lower()} request {request.number}",
            message=(
                f"The buyer of order {order.number} asks for a "
                f"{request.get_kind_display().lower()} of "
                f"{Money(request.requested_amount_minor, request.currency)} "
                f"({request.get_reason_display().lower()}). Answer by "
                f"{when_text(request.respond_by)}, or it is approved automatically."
            ),
        )
    return request


def _window_refusal(order: Order, *, now: datetime) -> ReturnRefused:
    if order.status not in RETURNABLE_ORDER_STATUSES:
        return ReturnRefused(
            "You can ask for a return or refund once the order has been delivered.",
            code="not_delivered",
        )
    ends = return_window_ends_at(order)
    return ReturnRefused(
        f"The return window for this order ended on {when_text(ends)}.", code="window_closed"
    )


# --- The seller answers ------------------------------------------------------------------------


def _refuse_late_answer(request: ReturnRequest, *, now: datetime) -> None:
    """After `respond_by` the request belongs to the deadline job (approved): a rejection or an
    offer that arrives in the minutes before the job runs is refused, not raced."""
    if request.status == ReturnStatus.REQUESTED and request.respond_by and now > request.respond_by:
        raise ReturnRefused(
            f"The time to answer ended on {when_text(request.respond_by)}: the request is being "
            "approved automatically.",
            code="respond_deadline_passed",
        )


def _refuse_expired_offer(request: ReturnRequest, *, now: datetime) -> None:
    if (
        request.status == ReturnStatus.PARTIAL_REFUND_OFFERED
        and request.offer_expires_at
        and now > request.offer_expires_at
    ):
        raise ReturnRefused(
            f"This offer expired on {when_text(request.offer_expires_at)}.", code="offer_expired"
        )


def return_approve(
    *, request_id: int, seller=None, actor=None, now: datetime | None = None, auto: bool = False
) -> ReturnRequest:
    """Approve a new request: a refund only is refunded in full at once; a return waits for the
    buyer's parcel (ship back within RETURN_BUYER_SHIP_DAYS). Approving twice, or after the
    deadline job approved it, answers with the request as it is. `auto`: the deadline job's
    approval of a request the seller did not answer."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locked_request(request_id=request_id, seller=seller)
        if request.status in (
            ReturnStatus.APPROVED,
            ReturnStatus.AWAITING_BUYER_SHIPMENT,
            ReturnStatus.REFUNDED,
        ):
            return request
        # The timeline's heading names the step; the message only adds what it does not say.
        message = "Approved automatically: the seller did not answer in time." if auto else ""
        move(
            request,
            from_status=ReturnStatus.REQUESTED,
            to_status=ReturnStatus.APPROVED,
            actor=actor,
            message=message,
            now=now,
        )
        if auto:
            tell(
                request,
                event="auto-approved",
                to="seller",
                title=f"Request {request.number} was approved automatically",
                message=(
                    f"Nobody answered the {request.get_kind_display().lower()} request on order "
                    f"{request.order.number} by {when_text(request.respond_by)}, so it was "
                    "approved. Answer requests within the deadline to decide them yourself."
                ),
            )
        if request.kind == RequestKind.REFUND_ONLY:
            refund_request(
                request,
                amount_minor=request.requested_amount_minor,
                actor=actor,
                message="Refund issued.",
                now=now,
            )
            return request
        move(
            request,
            to_status=ReturnStatus.AWAITING_BUYER_SHIPMENT,
            actor=actor,
            message="",
            fields={"ship_back_by": now + timedelta(days=settings.RETURN_BUYER_SHIP_DAYS)},
            now=now,
        )
        tell(
            request,
            event="approved",
            to="buyer",
            title=f"Your return {request.number} is approved",
            message=(
                f"{message + ' ' if message else ''}Send the item back to "
                f"{request.seller.shop_name} by "
                f"{when_text(request.ship_back_by)} and enter the tracking number on the request "
                "page; the refund follows once the shop receives it."
            ),
        )
    return request


def return_reject(
    *,
    request_id: int,
    seller,
    actor,
    reason_text: str,
    evidence=(),
    now: datetime | None = None,
) -> ReturnRequest:
    """Reject a new request with a reason the buyer reads and optional evidence (photos or
    PDF). Either side may escalate it within RETURN_ESCALATION_DAYS."""
    now = now or timezone.now()
    reason_text = clean_text(reason_text)
    if not reason_text:
        raise ReturnRefused("Tell the buyer why you reject the request.", code="reason_required")
    checked = evidence_check(evidence, photos_only=False)
    with transaction.atomic():
        request = locked_request(request_id=request_id, seller=seller)
        if request.status == ReturnStatus.REJECTED:
            return request
        _refuse_late_answer(request, now=now)
        with evidence_stored(checked, order_id=request.order_id) as stored:
            move(
                request,
                from_status=ReturnStatus.REQUESTED,
                to_status=ReturnStatus.REJECTED,
                actor=actor,
                message=f"“{reason_text}”",
                fields={
                    "reject_reason": reason_text,
                    "escalate_by": now + timedelta(days=settings.RETURN_ESCALATION_DAYS),
                },
                now=now,
            )
            evidence_record(
                request=request,
                stored=stored,
                party=Party.SELLER,
                stage=EvidenceStage.REJECTION,
                user=actor,
            )
        tell(
            request,
            event="rejected",
            to="buyer",
            title=f"The shop rejected your request {request.number}",
            message=(
                f"{request.seller.shop_name} says: {reason_text} If you disagree, ask the "
                f"marketplace to decide by {when_text(request.escalate_by)} from the request page."
            ),
        )
    return request


def return_offer_partial(
    *, request_id: int, seller, actor, amount_minor: int, now: datetime | None = None
) -> ReturnRequest:
    """Offer a partial refund (more than zero, less than the request's value) instead; the
    buyer keeps the item. The buyer has RETURN_OFFER_RESPONSE_DAYS to answer."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locked_request(request_id=request_id, seller=seller)
        if request.status == ReturnStatus.PARTIAL_REFUND_OFFERED:
            if request.offer_amount_minor == amount_minor:
                return request
            raise ReturnRefused("You already made an offer on this request.", code="offer_made")
        _refuse_late_answer(request, now=now)
        if not 0 < amount_minor < request.requested_amount_minor:
            raise ReturnRefused(
                "A partial refund is more than zero and less than "
                f"{Money(request.requested_amount_minor, request.currency)}; to refund it all, "
                "approve the request.",
                code="amount_out_of_range",
            )
        move(
            request,
            from_status=ReturnStatus.REQUESTED,
            to_status=ReturnStatus.PARTIAL_REFUND_OFFERED,
            actor=actor,
            message=f"The seller offers {Money(amount_minor, request.currency)}.",
            fields={
                "offer_amount_minor": amount_minor,
                "offer_expires_at": now + timedelta(days=settings.RETURN_OFFER_RESPONSE_DAYS),
            },
            now=now,
        )
        tell(
            request,
            event="offer",
            to="buyer",
            title=f"{request.seller.shop_name} offers a partial refund",
            message=(
                f"For request {request.number} the shop offers "
                f"{Money(amount_minor, request.currency)} and you keep the item. Accept or "
                f"decline by {when_text(request.offer_expires_at)} on the request page."
            ),
        )
    return request


# --- The buyer answers an offer, or withdraws -------------------------------------------------


def return_offer_accept(*, request_id: int, buyer, now: datetime | None = None) -> ReturnRequest:
    """The buyer accepts the offer: the offered amount is refunded. Accepting twice answers with
    the refunded request; the money goes back once."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locked_request(request_id=request_id, buyer=buyer)
        if request.status in (ReturnStatus.ACCEPTED, ReturnStatus.REFUNDED) and (
            request.offer_amount_minor
        ):
            return request
        _refuse_expired_offer(request, now=now)
        move(
            request,
            from_status=ReturnStatus.PARTIAL_REFUND_OFFERED,
            to_status=ReturnStatus.ACCEPTED,
            actor=buyer,
            message="",
            now=now,
        )
        refund_request(
            request,
            amount_minor=request.offer_amount_minor,
            actor=buyer,
            message="Refund issued.",
            now=now,
        )
        tell(
            request,
            event="offer-accepted",
            to="seller",
            title=f"Offer accepted on {request.number}",
            message=(
                f"The buyer accepted your partial refund of "
                f"{Money(request.offer_amount_minor, request.currency)}; it is being refunded."
            ),
        )
    return request


def return_offer_decline(*, request_id: int, buyer, now: datetime | None = None) -> ReturnRequest:
    """The buyer declines the offer; either side may escalate within RETURN_ESCALATION_DAYS."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locked_request(request_id=request_id, buyer=buyer)
        if request.status == ReturnStatus.DECLINED:
            return request
        _refuse_expired_offer(request, now=now)
        move(
            request,
            from_status=ReturnStatus.PARTIAL_REFUND_OFFERED,
            to_status=ReturnStatus.DECLINED,
            actor=buyer,
            message="",
            fields={"escalate_by": now + timedelta(days=settings.RETURN_ESCALATION_DAYS)},
            now=now,
        )
        tell(
            request,
            event="offer-declined",
            to="seller",
            title=f"Offer declined on {request.number}",
            message=(
                "The buyer declined your partial refund. Either of you may ask the marketplace "
                f"to decide by {when_text(request.escalate_by)}."
            ),
        )
    return request


WITHDRAWABLE = (
    ReturnStatus.REQUESTED,
    ReturnStatus.PARTIAL_REFUND_OFFERED,
    ReturnStatus.AWAITING_BUYER_SHIPMENT,
)


def return_withdraw(*, request_id: int, buyer, now: datetime | None = None) -> ReturnRequest:
    """The buyer takes the request back (before the item is on its way back)."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locked_request(request_id=request_id, buyer=buyer)
        if request.status == ReturnStatus.WITHDRAWN:
            return request
        if request.status not in WITHDRAWABLE:
            raise ReturnRefused(
                "This request can no longer be withdrawn: it is "
                f"{request.buyer_status_label.lower()}.",
                code="not_withdrawable",
            )
        move(
            request,
            from_status=request.status,
            to_status=ReturnStatus.WITHDRAWN,
            actor=buyer,
            message="",
            now=now,
        )
        tell(
            request,
            event="withdrawn",
            to="seller",
            title=f"Request {request.number} withdrawn",
            message=f"The buyer of order {request.order.number} withdrew the request.",
        )
    return request


def return_request_for_buyer(*, request_id: int, buyer) -> ReturnRequest:
    request = ReturnRequest.objects.filter(pk=request_id, buyer=buyer).first()
    if request is None:
        raise ReturnNotFound("No such request.")
    return request
