"""Cancellations of paid orders (docs/architecture.md, "Shipping and tracking, cancellations and
refunds"; the published cancellation policy in policies/demo.py).

- `order_cancel`: an immediate cancellation. By the buyer while the order is on hold and inside its
  free window (`cancel_window_ends_at`, ORDER_CANCEL_WINDOW_MINUTES after payment); by the seller
  before the carrier collects (one of SELLER_REASONS; out of stock counts against the shop); by
  the marketplace (a missed ship-by, orders.services.deadlines).
- After the window and before shipment the buyer asks instead: `cancellation_request` (pending,
  the seller answers by `respond_by`), `cancellation_approve`, `cancellation_reject`,
  `cancellation_withdraw`, and the job `cancellations_auto_approve` for requests not answered in
  time.

Every cancellation that takes effect runs `_cancel_order` in one transaction: the order moves to
cancelled with a compare-and-swap (the one serialization point: a second click, a second worker or
a shipment at the same moment finds it moved and writes nothing), the cancellation row is approved,
the stock comes back once, a pending Refund is stored for this seller order's total with a key
built from the cancellation id, the ledger gives every party's share back, and buyer and seller
are told. After commit the refund job calls the gateway (orders.services.refunds), holding no lock.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.money import Money
from marketplace.notifications.services import notify, notify_many
from marketplace.state import StaleTransition, transition, transition_many
from orders.models import (
    CANCELLATION_MACHINE,
    ORDER_MACHINE,
    CancellationInitiator,
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderLine,
    OrderStatus,
    Refund,
    RefundReason,
)
from orders.services.refunds import refund_issue, refund_whole_order_lines
from orders.services.stock import stock_refresh_products, stock_release

logger = logging.getLogger(__name__)

BUYER_REASONS = (
    CancellationReason.CHANGED_MIND,
    CancellationReason.ORDERED_BY_MISTAKE,
    CancellationReason.WRONG_ADDRESS,
    CancellationReason.FOUND_CHEAPER,
    CancellationReason.TOO_SLOW,
    CancellationReason.OTHER,
)
# The cancellation policy lets a seller cancel for these reasons only.
SELLER_REASONS = (
    CancellationReason.OUT_OF_STOCK,
    CancellationReason.CANNOT_SHIP_TO_ADDRESS,
    CancellationReason.BUYER_ASKED,
)
SYSTEM_REASONS = (CancellationReason.SHIP_BY_MISSED, CancellationReason.OTHER)
REASONS_BY_INITIATOR = {
    CancellationInitiator.BUYER: BUYER_REASONS,
    CancellationInitiator.SELLER: SELLER_REASONS,
    CancellationInitiator.SYSTEM: SYSTEM_REASONS,
}

# Paid and not collected by the carrier yet: what can still be cancelled at all.
CANCELLABLE_STATUSES = (
    OrderStatus.ON_HOLD,
    OrderStatus.AWAITING_SHIPMENT,
    OrderStatus.AWAITING_COLLECTION,
)
NOTE_MAX_LENGTH = 1000


class CancellationRefused(DomainError):
    code = "cancellation_refused"


class CancellationNotFound(DomainError):
    code = "cancellation_not_found"


# --- Rules the pages ask too (one owner) -------------------------------------------------------


def buyer_can_cancel_now(order: Order, *, now: datetime | None = None) -> bool:
    """Inside the free window: on hold and before `cancel_window_ends_at`."""
    now = now or timezone.now()
    return (
        order.status == OrderStatus.ON_HOLD
        and order.cancel_window_ends_at is not None
        and now < order.cancel_window_ends_at
    )


def buyer_can_request(order: Order, *, now: datetime | None = None) -> bool:
    """After the free window and before the carrier collects: the buyer asks the seller."""
    return order.status in CANCELLABLE_STATUSES and not buyer_can_cancel_now(order, now=now)


def seller_can_cancel(order: Order) -> bool:
    return order.status in CANCELLABLE_STATUSES


def _refusal_for(order: Order) -> CancellationRefused:
    """Why an order that moved on can no longer be cancelled, in the words of the person asking."""
    if order.status == OrderStatus.CANCELLED:
        return CancellationRefused("This order is already cancelled.", code="already_cancelled")
    if order.status == OrderStatus.UNPAID:
        return CancellationRefused("This order is not paid yet.", code="not_paid")
    if order.status not in CANCELLABLE_STATUSES:
        return CancellationRefused(
            "This order has already been handed to the carrier and can no longer be cancelled.",
            code="already_shipped",
        )
    return CancellationRefused(
        "This order changed meanwhile; reload the page and try again.", code="changed"
    )


def _clean_note(note: str) -> str:
    return (note or "").replace("\x00", "").strip()[:NOTE_MAX_LENGTH]


# --- Immediate cancellation --------------------------------------------------------------------


def order_cancel(
    *,
    order_id: int,
    initiated_by: str,
    reason: str,
    actor=None,
    note: str = "",
    seller=None,
    now: datetime | None = None,
) -> OrderCancellation:
    """Cancel a paid order at once and refund it (see the module docstring).

    `initiated_by` "buyer": `actor` must be the order's buyer, inside the free window. "seller":
    before collection, `reason` one of SELLER_REASONS; with `seller`, the order must be that
    seller's. "system": the marketplace's deadlines. A pending buyer request for the order is
    approved by the cancellation. Raises CancellationRefused (nothing written) otherwise,
    including for a second click once the first one cancelled the order.
    """
    now = now or timezone.now()
    if initiated_by not in REASONS_BY_INITIATOR:
        raise CancellationRefused(f"Unknown initiator {initiated_by!r}.", code="invalid_initiator")
    if initiated_by == CancellationInitiator.BUYER and not reason:
        reason = CancellationReason.OTHER  # the policy: no reason needed inside the window
    if reason not in REASONS_BY_INITIATOR[initiated_by]:
        raise CancellationRefused("Choose one of the reasons listed.", code="invalid_reason")
    order = _order_for(order_id=order_id, buyer=None, seller=seller)
    where = None
    if initiated_by == CancellationInitiator.BUYER:
        if actor is None or order.buyer_id != actor.pk:
            raise CancellationNotFound("No such order.", code="order_not_found")
        if order.status in CANCELLABLE_STATUSES and not buyer_can_cancel_now(order, now=now):
            raise CancellationRefused(
                "The free cancellation window has ended: request a cancellation from the seller "
                "instead.",
                code="cancel_window_closed",
            )
        allowed = (OrderStatus.ON_HOLD,)
        where = Q(cancel_window_ends_at__gt=now)
    else:
        allowed = CANCELLABLE_STATUSES
    if order.status not in allowed:
        raise _refusal_for(order)

    with transaction.atomic():
        pending = OrderCancellation.objects.filter(
            order_id=order.pk, status=CancellationStatus.PENDING
        ).first()
        _order_to_cancelled(order, allowed=allowed, where=where, actor=actor, now=now)
        if pending is not None and _approve_row(pending, actor=actor, now=now):
            cancellation = pending
        else:
            try:
                with transaction.atomic():
                    cancellation = OrderCancellation.objects.create(
                        order=order,
                        initiated_by=initiated_by,
                        reason=reason,
                        note=_clean_note(note),
                        status=CancellationStatus.APPROVED,
                        requested_by=actor,
                        decided_by=actor,
                        decided_at=now,
                        created_at=now,
                    )
            except IntegrityError:
                # A request was filed in the same instant; the order's move rolls back with this.
                raise CancellationRefused(
                    "This order changed meanwhile; reload the page and try again.", code="changed"
                ) from None
        _after_cancelled(order, cancellation, now=now)
        if (
            initiated_by == CancellationInitiator.SELLER
            and reason == CancellationReason.OUT_OF_STOCK
        ):
            from orders.services.deadlines import order_record_fulfilment_violation

            order_record_fulfilment_violation(
                order=order,
                cause=CancellationReason.OUT_OF_STOCK,
                reason=f"Order {order.number} was cancelled by the shop: out of stock.",
            )
    return cancellation


def _order_for(*, order_id: int, buyer=None, seller=None) -> Order:
    orders = Order.objects.select_related("seller", "buyer")
    if buyer is not None:
        orders = orders.filter(buyer=buyer)
    if seller is not None:
        orders = orders.filter(seller=seller)
    order = orders.filter(pk=order_id).first()
    if order is None:
        raise CancellationNotFound("No such order.", code="order_not_found")
    return order


def _order_to_cancelled(order: Order, *, allowed, where, actor, now) -> None:
    """The compare-and-swap every cancellation goes through; refuses with the current reason."""
    try:
        transition(
            ORDER_MACHINE,
            pk=order.pk,
            from_status=list(allowed),
            to_status=OrderStatus.CANCELLED,
            where=where,
            actor=actor,
            message="Cancelled; the payment is refunded.",
            fields={"cancelled_at": now},
            now=now,
        )
    except StaleTransition:
        order.refresh_from_db(fields=["status", "cancel_window_ends_at"])
        if where is not None and order.status == OrderStatus.ON_HOLD:
            raise CancellationRefused(
                "The free cancellation window has ended: request a cancellation from the seller "
                "instead.",
                code="cancel_window_closed",
            ) from None
        raise _refusal_for(order) from None
    order.status, order.cancelled_at = OrderStatus.CANCELLED, now


def _approve_row(cancellation: OrderCancellation, *, actor, now, where=None) -> bool:
    try:
        transition(
            CANCELLATION_MACHINE,
            instance=cancellation,
            from_status=CancellationStatus.PENDING,
            to_status=CancellationStatus.APPROVED,
            fields={"decided_by": actor, "decided_at": now},
            where=where,
            now=now,
        )
    except StaleTransition:
        return False
    return True


def _after_cancelled(order: Order, cancellation: OrderCancellation, *, now) -> Refund:
    """Restock, refund row, ledger and emails for an order this transaction just cancelled."""
    quantities: dict[int, int] = {}
    product_ids: set[int] = set()
    for sku_id, product_id, quantity in OrderLine.objects.filter(
        order_id=order.pk, sku__isnull=False
    ).values_list("sku_id", "product_id_copy", "quantity"):
        quantities[sku_id] = quantities.get(sku_id, 0) + quantity
        if product_id:
            product_ids.add(product_id)
    stock_release(quantities=quantities)
    if product_ids:
        transaction.on_commit(lambda: stock_refresh_products(product_ids=product_ids))

    refund = refund_issue(
        order=order,
        lines=refund_whole_order_lines(order),
        idempotency_key=f"refund:cancellation:{cancellation.pk}",
        reason=RefundReason.CANCELLATION,
        cancellation=cancellation,
        now=now,
    )
    _notify_cancelled(order, cancellation, refund)
    return refund


def _order_context(order: Order, **extra) -> dict:
    return {
        "number": order.number,
        "shop_name": order.seller.shop_name,
        "total": str(Money(order.total_minor, order.currency)),
        **extra,
    }


def _notify_cancelled(order: Order, cancellation: OrderCancellation, refund: Refund) -> None:
    context = _order_context(
        order,
        refund=str(Money(refund.amount_minor, refund.currency)),
        reason=cancellation.get_reason_display(),
        initiated_by=cancellation.initiated_by,
    )
    notify_many(
        [
            {
                "kind": "order.cancelled.buyer",
                "key": f"order-cancelled:{cancellation.pk}:buyer",
                "to_email": order.buyer.email,
                "user": order.buyer,
                "about": f"order:{order.pk}",
                "subject_template": "orders/email/order_cancelled_buyer_subject.txt",
                "body_template": "orders/email/order_cancelled_buyer.txt",
                "context": context,
            },
            {
                "kind": "order.cancelled.seller",
                "key": f"order-cancelled:{cancellation.pk}:seller",
                "to_email": order.seller.contact_email,
                "about": f"order:{order.pk}",
                "subject_template": "orders/email/order_cancelled_seller_subject.txt",
                "body_template": "orders/email/order_cancelled_seller.txt",
                "context": context,
            },
        ]
    )


# --- Requests after the window ----------------------------------------------------------------


def cancellation_request(
    *, order_id: int, buyer, reason: str, note: str = "", now: datetime | None = None
) -> OrderCancellation:
    """The buyer asks the seller to cancel (after the free window, before collection). The same
    request sent twice answers with the pending one. Raises CancellationRefused otherwise."""
    now = now or timezone.now()
    if reason not in BUYER_REASONS:
        raise CancellationRefused("Choose one of the reasons listed.", code="invalid_reason")
    order = _order_for(order_id=order_id, buyer=buyer)
    if order.status not in CANCELLABLE_STATUSES:
        raise _refusal_for(order)
    if buyer_can_cancel_now(order, now=now):
        raise CancellationRefused(
            "You can still cancel this order yourself, at once and free of charge.",
            code="cancel_directly",
        )
    existing = _open_or_rejected(order)
    if existing is not None:
        if existing.status == CancellationStatus.PENDING:
            return existing  # a double-click: the request is already with the seller
        raise CancellationRefused(
            "The seller declined your cancellation request for this order.", code="rejected"
        )
    try:
        with transaction.atomic():
            cancellation = OrderCancellation.objects.create(
                order=order,
                initiated_by=CancellationInitiator.BUYER,
                reason=reason,
                note=_clean_note(note),
                status=CancellationStatus.PENDING,
                requested_by=buyer,
                respond_by=now + timedelta(hours=settings.CANCELLATION_RESPONSE_HOURS),
                created_at=now,
            )
            notify(
                kind="order.cancellation_requested.seller",
                key=f"cancellation-requested:{cancellation.pk}:seller",
                to_email=order.seller.contact_email,
                about=f"order:{order.pk}",
                subject_template="orders/email/cancellation_requested_seller_subject.txt",
                body_template="orders/email/cancellation_requested_seller.txt",
                context=_order_context(
                    order,
                    reason=cancellation.get_reason_display(),
                    note=cancellation.note,
                    respond_by=f"{timezone.localtime(cancellation.respond_by):%b %d, %Y %H:%M %Z}",
                ),
            )
    except IntegrityError:
        # Two requests at once (or a cancellation in the same instant): answer with the winner.
        existing = _open_or_rejected(order)
        if existing is not None and existing.status == CancellationStatus.PENDING:
            return existing
        order.refresh_from_db(fields=["status"])
        raise _refusal_for(order) from None
    return cancellation


def _open_or_rejected(order: Order) -> OrderCancellation | None:
    return (
        OrderCancellation.objects.filter(
            order_id=order.pk,
            status__in=[
                CancellationStatus.PENDING,
                CancellationStatus.APPROVED,
                CancellationStatus.REJECTED,
            ],
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _cancellation_for(*, cancellation_id: int, seller=None, buyer=None) -> OrderCancellation:
    rows = OrderCancellation.objects.select_related("order__seller", "order__buyer")
    if seller is not None:
        rows = rows.filter(order__seller=seller)
    if buyer is not None:
        rows = rows.filter(order__buyer=buyer)
    cancellation = rows.filter(pk=cancellation_id).first()
    if cancellation is None:
        raise CancellationNotFound("No such cancellation request.")
    return cancellation


def _already_decided(cancellation: OrderCancellation) -> CancellationRefused:
    cancellation.refresh_from_db(fields=["status"])
    return CancellationRefused(
        f"This request was already answered: {cancellation.get_status_display().lower()}.",
        code="already_decided",
    )


def cancellation_approve(
    *, cancellation_id: int, seller, actor, now: datetime | None = None
) -> OrderCancellation:
    """The seller accepts a pending request: the order is cancelled and refunded. Approving twice
    answers with the approved request."""
    now = now or timezone.now()
    cancellation = _cancellation_for(cancellation_id=cancellation_id, seller=seller)
    if cancellation.status == CancellationStatus.APPROVED:
        return cancellation
    if cancellation.status != CancellationStatus.PENDING:
        raise _already_decided(cancellation)
    _approve_and_cancel(cancellation, actor=actor, now=now)
    return cancellation


def _lock_order_first(order_id: int) -> None:
    """Every path that changes both an order and its cancellation takes the order's row lock
    first (order_cancel and the missed-ship-by job do, by their UPDATE of the order): the same
    order of locks everywhere, so a seller's approval, the auto-approval job and a cancellation
    at once wait for each other instead of deadlocking."""
    Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True).first()


def _approve_and_cancel(cancellation: OrderCancellation, *, actor, now, where=None) -> None:
    order = cancellation.order
    with transaction.atomic():
        _lock_order_first(order.pk)
        if not _approve_row(cancellation, actor=actor, now=now, where=where):
            cancellation.refresh_from_db(fields=["status"])
            if cancellation.status == CancellationStatus.APPROVED:
                return  # approved by the other click or worker
            raise _already_decided(cancellation)
        _order_to_cancelled(order, allowed=CANCELLABLE_STATUSES, where=None, actor=actor, now=now)
        _after_cancelled(order, cancellation, now=now)


def cancellation_reject(
    *, cancellation_id: int, seller, actor, reason_text: str, now: datetime | None = None
) -> OrderCancellation:
    """The seller declines a pending request, saying why (required; the buyer reads it)."""
    now = now or timezone.now()
    reason_text = _clean_note(reason_text)
    if not reason_text:
        raise CancellationRefused(
            "Tell the buyer why you decline the request.", code="reason_required"
        )
    cancellation = _cancellation_for(cancellation_id=cancellation_id, seller=seller)
    with transaction.atomic():
        try:
            transition(
                CANCELLATION_MACHINE,
                instance=cancellation,
                from_status=CancellationStatus.PENDING,
                to_status=CancellationStatus.REJECTED,
                fields={"decided_by": actor, "decided_at": now, "reject_reason": reason_text},
                now=now,
            )
        except StaleTransition:
            raise _already_decided(cancellation) from None
        order = cancellation.order
        notify(
            kind="order.cancellation_rejected.buyer",
            key=f"cancellation-rejected:{cancellation.pk}:buyer",
            to_email=order.buyer.email,
            user=order.buyer,
            about=f"order:{order.pk}",
            subject_template="orders/email/cancellation_rejected_buyer_subject.txt",
            body_template="orders/email/cancellation_rejected_buyer.txt",
            context=_order_context(order, reject_reason=reason_text),
        )
    return cancellation


def cancellation_withdraw(*, cancellation_id: int, buyer) -> OrderCancellation:
    """The buyer takes a pending request back. Withdrawing twice answers with the withdrawn one."""
    cancellation = _cancellation_for(cancellation_id=cancellation_id, buyer=buyer)
    if cancellation.status == CancellationStatus.WITHDRAWN:
        return cancellation
    try:
        transition(
            CANCELLATION_MACHINE,
            instance=cancellation,
            from_status=CancellationStatus.PENDING,
            to_status=CancellationStatus.WITHDRAWN,
        )
    except StaleTransition:
        cancellation.refresh_from_db(fields=["status"])
        if cancellation.status == CancellationStatus.WITHDRAWN:
            return cancellation
        raise _already_decided(cancellation) from None
    return cancellation


def cancellations_auto_approve(*, now: datetime | None = None) -> list[int]:
    """Approve (and cancel and refund) each pending request past its `respond_by`, each in its
    own transaction. A request whose order was collected meanwhile is closed as rejected. Safe on
    two workers: each request and each order moves with a compare-and-swap. Returns the ids
    approved by this run."""
    now = now or timezone.now()
    due = list(
        OrderCancellation.objects.filter(status=CancellationStatus.PENDING, respond_by__lte=now)
        .order_by("respond_by", "id")
        .values_list("pk", flat=True)[:500]
    )
    approved = []
    for pk in due:
        cancellation = (
            OrderCancellation.objects.select_related("order__seller", "order__buyer")
            .filter(pk=pk)
            .first()
        )
        if cancellation is None or cancellation.status != CancellationStatus.PENDING:
            continue
        try:
            with transaction.atomic():
                _lock_order_first(cancellation.order_id)
                if not _approve_row(
                    cancellation, actor=None, now=now, where=Q(respond_by__lte=now)
                ):
                    continue  # answered, withdrawn or approved by another worker meanwhile
                _order_to_cancelled(
                    cancellation.order,
                    allowed=CANCELLABLE_STATUSES,
                    where=None,
                    actor=None,
                    now=now,
                )
                _after_cancelled(cancellation.order, cancellation, now=now)
        except CancellationRefused as error:
            logger.info("Cancellation request %s not approved: %s", pk, error)
            _close_unanswerable(pk, now=now)
            continue
        approved.append(pk)
    return approved


def _close_unanswerable(pk: int, *, now) -> None:
    """A request whose order can no longer be cancelled (collected, or cancelled otherwise)."""
    transition_many(
        CANCELLATION_MACHINE,
        pks=[pk],
        from_status=CancellationStatus.PENDING,
        to_status=CancellationStatus.REJECTED,
        fields={
            "decided_at": now,
            "reject_reason": "The order was already on its way when the request was due.",
        },
        now=now,
    )
