"""The return parcel: the buyer ships it back with a tracking number, the tracking job follows
it like any parcel (orders.services.tracking calls `return_parcel_moved`), and at delivery the
seller has RETURN_RECEIPT_CONFIRM_HOURS to confirm what came back (the refund runs and the
resellable units go back in stock) or to report a problem (a dispute); after that the refund runs
by itself (returns.services.deadlines).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.carriers import carrier_get, normalize_tracking_number
from orders.models import Shipment, ShipmentDirection, ShipmentStatus
from orders.services.stock import stock_refresh_products, stock_release
from returns.models import (
    Dispute,
    EvidenceStage,
    Party,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
)
from returns.services.common import (
    ReturnRefused,
    clean_text,
    locked_request,
    move,
    on_commit_register_parcel,
    refund_request,
    tell,
    when_text,
)
from returns.services.evidence import evidence_check, evidence_record, evidence_stored


def return_ship_back(
    *, request_id: int, buyer, carrier: str, tracking_number: str, now: datetime | None = None
) -> ReturnRequest:
    """The buyer sent the item back: the parcel is recorded (a return Shipment, tracked by the
    tracking job) and the request is on its way. The same number sent twice answers with the
    request as it is; a number another parcel uses is refused."""
    now = now or timezone.now()
    carrier_info = carrier_get(carrier)
    if carrier_info is None:
        raise ReturnRefused("Choose the carrier you shipped with.", code="invalid_carrier")
    tracking_number = normalize_tracking_number(tracking_number)
    error = carrier_info.tracking_number_error(tracking_number)
    if error:
        raise ReturnRefused(error, code="invalid_tracking_number")
    with transaction.atomic():
        request = locked_request(request_id=request_id, buyer=buyer)
        if request.status == ReturnStatus.BUYER_SHIPPED:
            shipment = request.return_shipment
            if shipment and (shipment.carrier, shipment.tracking_number) == (
                carrier,
                tracking_number,
            ):
                return request
        if (
            request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT
            and request.ship_back_by
            and (now > request.ship_back_by)
        ):
            raise ReturnRefused(
                "The time to send this return has passed.", code="ship_back_deadline_passed"
            )
        try:
            with transaction.atomic():
                shipment = Shipment.objects.create(
                    order=request.order,
                    seller=request.seller,
                    direction=ShipmentDirection.RETURN,
                    carrier=carrier,
                    tracking_number=tracking_number,
                    created_by=buyer,
                    created_at=now,
                )
        except IntegrityError:
            raise ReturnRefused(
                "That tracking number is already used by another parcel. Check it and try again.",
                code="tracking_number_taken",
            ) from None
        move(
            request,
            from_status=ReturnStatus.AWAITING_BUYER_SHIPMENT,
            to_status=ReturnStatus.BUYER_SHIPPED,
            actor=buyer,
            message=f"Sent back with {carrier_info.name} {tracking_number}.",
            fields={"return_shipment": shipment},
            now=now,
        )
        on_commit_register_parcel(carrier, tracking_number, now)
        tell(
            request,
            event="shipped",
            to="seller",
            title=f"Return {request.number} is on its way to you",
            message=(
                f"The buyer of order {request.order.number} sent the item back with "
                f"{carrier_info.name}, tracking number {tracking_number}. When it arrives, "
                f"confirm receipt within {settings.RETURN_RECEIPT_CONFIRM_HOURS} hours or report "
                "a problem; after that the refund runs automatically."
            ),
        )
    return request


def return_parcel_moved(*, shipment: Shipment, now: datetime) -> None:
    """Registered with orders' tracking: called (order and parcel rows locked) when a return
    parcel changes status. At delivery, the seller's time to confirm receipt starts."""
    if shipment.status != ShipmentStatus.DELIVERED:
        return
    request = (
        ReturnRequest.objects.select_related("order", "seller", "buyer")
        .filter(return_shipment=shipment, status=ReturnStatus.BUYER_SHIPPED)
        .first()
    )
    if request is None or request.return_delivered_at is not None:
        return
    delivered_at = shipment.delivered_at or now
    # Counted from when we hear of the delivery: a carrier that reports it days late must not
    # leave the seller a deadline already past.
    confirm_by = max(delivered_at, now) + timedelta(hours=settings.RETURN_RECEIPT_CONFIRM_HOURS)
    ReturnRequest.objects.filter(pk=request.pk).update(
        return_delivered_at=delivered_at, confirm_receipt_by=confirm_by, updated_at=now
    )
    request.confirm_receipt_by = confirm_by
    tell(
        request,
        event="return-delivered",
        to="seller",
        title=f"Return {request.number} was delivered to you",
        message=(
            "Check what came back and confirm receipt (the refund runs) or report a problem by "
            f"{when_text(confirm_by)}; after that the refund runs "
            "automatically."
        ),
    )


def return_confirm_receipt(
    *,
    request_id: int,
    seller=None,
    actor=None,
    not_resellable: dict[int, int] | None = None,
    now: datetime | None = None,
    auto: bool = False,
) -> ReturnRequest:
    """The seller confirms the return arrived: the request's full value is refunded, and the
    units not marked in `not_resellable` (order line id -> units) go back in stock. `auto`: the
    deadline job, for a delivered return the seller did not confirm in time (refunded; nothing is
    restocked, since nobody looked at what came back). Confirming twice answers with the request
    as it is."""
    now = now or timezone.now()
    not_resellable = {pk: qty for pk, qty in (not_resellable or {}).items() if qty}
    with transaction.atomic():
        request = locked_request(request_id=request_id, seller=seller)
        if request.status in (ReturnStatus.RECEIVED, ReturnStatus.REFUNDED) and (
            request.return_shipment_id
        ):
            return request
        lines = list(request.lines.select_related("order_line"))
        by_line = {line.order_line_id: line for line in lines}
        for pk, qty in not_resellable.items():
            if pk not in by_line:
                raise ReturnRefused("That item is not part of this return.", code="not_in_return")
            if not isinstance(qty, int) or not 0 <= qty <= by_line[pk].quantity:
                raise ReturnRefused(
                    f"Mark at most {by_line[pk].quantity} of "
                    f"{by_line[pk].order_line.product_title} as not resellable.",
                    code="invalid_quantity",
                )
        move(
            request,
            from_status=ReturnStatus.BUYER_SHIPPED,
            to_status=ReturnStatus.RECEIVED,
            actor=actor,
            message=(
                "Receipt not confirmed in time: the refund runs automatically."
                if auto
                else "The seller confirmed receipt."
            ),
            now=now,
        )
        if auto:
            tell(
                request,
                event="auto-received",
                to="seller",
                title=f"Return {request.number} was refunded automatically",
                message=(
                    "The return was delivered to you and receipt was not confirmed by "
                    f"{when_text(request.confirm_receipt_by)}, so the buyer is refunded. Nothing "
                    "was put back in stock: add what can be sold again to your stock by hand."
                ),
            )
        else:
            _restock(lines, not_resellable)
        refund_request(
            request,
            amount_minor=request.requested_amount_minor,
            actor=actor,
            message="Refund issued.",
            now=now,
        )
    return request


def _restock(lines: list[ReturnRequestLine], not_resellable: dict[int, int]) -> None:
    quantities: dict[int, int] = {}
    product_ids = set()
    for line in lines:
        bad = not_resellable.get(line.order_line_id, 0)
        good = line.quantity - bad
        ReturnRequestLine.objects.filter(pk=line.pk).update(
            not_resellable_quantity=bad, restocked_quantity=good if line.order_line.sku_id else 0
        )
        if good and line.order_line.sku_id:
            quantities[line.order_line.sku_id] = quantities.get(line.order_line.sku_id, 0) + good
            if line.order_line.product_id_copy:
                product_ids.add(line.order_line.product_id_copy)
    if quantities:
        stock_release(quantities=quantities)
    if product_ids:
        transaction.on_commit(lambda: stock_refresh_products(product_ids=product_ids))


def return_report_problem(
    *,
    request_id: int,
    seller,
    actor,
    statement: str,
    evidence=(),
    now: datetime | None = None,
) -> ReturnRequest:
    """The seller reports a problem with what came back (wrong item, used, damaged by the buyer)
    instead of confirming: the request goes to the marketplace's arbitration queue."""
    from returns.services.disputes import dispute_open

    now = now or timezone.now()
    statement = clean_text(statement)
    if not statement:
        raise ReturnRefused("Describe the problem with what came back.", code="statement_required")
    checked = evidence_check(evidence, photos_only=False)
    with transaction.atomic():
        request = locked_request(request_id=request_id, seller=seller)
        if request.status == ReturnStatus.IN_DISPUTE:
            if Dispute.objects.filter(request=request, opened_by=Party.SELLER).exists():
                return request  # the same report sent twice
            raise ReturnRefused(
                "This request is already with the marketplace: add your statement and evidence "
                "to the dispute instead.",
                code="dispute_open",
            )
        if request.status == ReturnStatus.BUYER_SHIPPED and request.return_delivered_at is None:
            raise ReturnRefused(
                "You can report a problem once the return has been delivered to you. A parcel "
                f"that does not arrive goes to the marketplace after "
                f"{settings.RETURN_PARCEL_LOST_DAYS} days.",
                code="not_delivered_yet",
            )
        if (
            request.status == ReturnStatus.BUYER_SHIPPED
            and request.confirm_receipt_by
            and now > request.confirm_receipt_by
        ):
            raise ReturnRefused(
                "The time to report a problem has passed; the refund is running.",
                code="receipt_deadline_passed",
            )
        with evidence_stored(checked, order_id=request.order_id) as stored:
            dispute_open(
                request,
                party=Party.SELLER,
                user=actor,
                statement=statement,
                from_status=ReturnStatus.BUYER_SHIPPED,
                now=now,
            )
            evidence_record(
                request=request,
                stored=stored,
                party=Party.SELLER,
                stage=EvidenceStage.RECEIPT,
                user=actor,
            )
    return request
