"""Tracking: carriers' events recorded once, parcels and orders moved by them, and the job that asks
carriers about open parcels (docs/architecture.md, "Shipping and tracking, cancellations and
refunds").

Both ways events arrive end in `tracking_events_record`: the tracking job (`tracking_poll_due`,
every minute) for carriers we ask, and the carrier webhook (orders/carriers/webhook.py) for
carriers that tell us.

Return parcels (direction "return", sent back by the buyer) are tracked the same way but never
move the order: the functions registered with `return_parcel_listener_register` (the returns app,
from its AppConfig.ready()) hear of each of their moves instead.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from marketplace.errors import IllegalTransition
from marketplace.notifications.services import notify
from marketplace.state import transition
from orders.carriers import TrackingUpdate, carrier_adapter, carrier_get
from orders.models import (
    ORDER_MACHINE,
    SHIPMENT_MACHINE,
    Order,
    OrderStatus,
    Shipment,
    ShipmentDirection,
    ShipmentStatus,
    TrackingEvent,
)

logger = logging.getLogger(__name__)

# A parcel in one of these is on its way: the order it belongs to is no longer waiting for the
# carrier to collect it.
MOVING = frozenset(
    {
        ShipmentStatus.COLLECTED,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    }
)
# A parcel in one of these has arrived or come back: nobody asks its carrier about it any more.
FINISHED = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER})

_KIND_VALUES = frozenset(ShipmentStatus.values)

# Called as fn(shipment=..., now=...) inside the recording transaction (the order's and the
# parcel's rows locked) after a return parcel moved to a new status.
_RETURN_PARCEL_LISTENERS: list[Callable[..., None]] = []


def return_parcel_listener_register(listener: Callable[..., None]) -> None:
    if listener not in _RETURN_PARCEL_LISTENERS:
        _RETURN_PARCEL_LISTENERS.append(listener)


def tracking_events_record(*, shipment: Shipment, updates: list[TrackingUpdate]) -> int:
    """Record the carrier's events for one parcel that are not recorded yet, move the parcel to
    the status of its latest event (by when it happened) when its machine allows, and move the
    order: on its way at the first parcel collected, delivered when every parcel is. The buyer
    hears of both. Returns how many events were new; the same updates again change nothing.

    The order row, then the parcel's, are locked for the whole of it, so two recordings for the
    same order (two parcels, or a poll and a webhook at once) run one after the other and each
    sees what the other wrote.
    """
    updates = [update for update in updates if update.kind in _KIND_VALUES]
    if not updates:
        return 0
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=shipment.order_id)
        shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
        known = set(
            TrackingEvent.objects.filter(
                shipment=shipment, external_id__in=[u.external_id for u in updates]
            ).values_list("external_id", flat=True)
        )
        new: dict[str, TrackingUpdate] = {}
        for update in updates:
            if update.external_id not in known:
                new.setdefault(update.external_id, update)
        if not new:
            return 0
        now = timezone.now()
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    shipment=shipment,
                    kind=update.kind,
                    occurred_at=update.occurred_at,
                    external_id=update.external_id,
                    description=update.description[:255],
                    location=update.location[:120],
                    recorded_at=now,
                )
                for update in new.values()
            ],
            # The unique (shipment, external_id) has the last word if the lock did not serialize.
            ignore_conflicts=True,
        )
        moved = _shipment_follow_events(shipment=shipment, now=now)
        if shipment.direction == ShipmentDirection.RETURN:
            if moved:
                for listener in _RETURN_PARCEL_LISTENERS:
                    listener(shipment=shipment, now=now)
        else:
            _order_follow_shipments(order=order, now=now)
    return len(new)


def _shipment_follow_events(*, shipment: Shipment, now: datetime) -> bool:
    """Move the parcel to its latest event's status; True when it moved."""
    latest = shipment.events.order_by("-occurred_at", "-id").first()
    if latest is None or latest.kind == shipment.status:
        return False
    if not SHIPMENT_MACHINE.allows(shipment.status, latest.kind):
        # A late event from before the parcel's current state (carriers report out of order).
        return False
    fields = {}
    if latest.kind == ShipmentStatus.DELIVERED:
        fields["delivered_at"] = latest.occurred_at
    transition(SHIPMENT_MACHINE, instance=shipment, to_status=latest.kind, fields=fields, now=now)
    return True


def _order_follow_shipments(*, order: Order, now: datetime) -> None:
    outbound = order.shipments.filter(direction=ShipmentDirection.OUTBOUND)
    statuses = list(outbound.values_list("status", flat=True))
    if not statuses:
        return
    if order.status == OrderStatus.AWAITING_COLLECTION and any(s in MOVING for s in statuses):
        transition(
            ORDER_MACHINE,
            instance=order,
            to_status=OrderStatus.IN_TRANSIT,
            message="The carrier has the parcel.",
            now=now,
        )
        _notify_buyer(order=order, event="in-transit")
    if order.status == OrderStatus.IN_TRANSIT and all(
        s == ShipmentStatus.DELIVERED for s in statuses
    ):
        delivered_at = outbound.aggregate(last=Max("delivered_at"))["last"] or now
        transition(
            ORDER_MACHINE,
            instance=order,
            to_status=OrderStatus.DELIVERED,
            message="Every parcel was delivered.",
            fields={"delivered_at": delivered_at},
            now=now,
        )
        _notify_buyer(order=order, event="delivered")


_BUYER_NOTICES = {
    # event: (kind, template name)
    "in-transit": ("order.in_transit.buyer", "buyer_order_on_its_way"),
    "delivered": ("order.delivered.buyer", "buyer_order_delivered"),
}


def _notify_buyer(*, order: Order, event: str) -> None:
    """Inside the transaction of the move. An order reaches each of these states once (the
    machine has no way back), so the order's id is a stable key."""
    kind, template = _BUYER_NOTICES[event]
    packages = [
        {
            "carrier": (carrier_get(code).name if carrier_get(code) else code),
            "tracking_number": number,
        }
        for code, number in order.shipments.filter(
            direction=ShipmentDirection.OUTBOUND
        ).values_list("carrier", "tracking_number")
    ]
    buyer = order.buyer
    notify(
        kind=kind,
        key=f"order-{event}:{order.pk}:buyer",
        to_email=buyer.email,
        user=buyer,
        about=f"order:{order.pk}",
        subject_template=f"orders/email/{template}_subject.txt",
        body_template=f"orders/email/{template}.txt",
        context={
            "order_number": order.number,
            "shop_name": order.seller.shop_name,
            "packages": packages,
        },
    )


def tracking_poll_due(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    min_interval: timedelta | None = None,
) -> dict[str, int]:
    """Ask the carriers about the open parcels not asked within `min_interval`, stalest first, at
    most `batch_size` of them, and record what they answer. Each parcel is claimed (its
    last_polled_at set) before its carrier is asked, so two runs at once never ask about the same
    parcel. One `poll` per carrier with all its tracking numbers. A carrier that fails is logged
    and asked again next time.

    Returns counts: parcels polled, events recorded, carriers that failed.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.TRACKING_POLL_BATCH_SIZE
    if min_interval is None:
        min_interval = timedelta(minutes=settings.TRACKING_POLL_MIN_INTERVAL_MINUTES)
    shipments = _claim_due(now=now, batch_size=batch_size, min_interval=min_interval)
    by_carrier: dict[str, list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        by_carrier[shipment.carrier].append(shipment)
    recorded = failed = 0
    for code, parcels in by_carrier.items():
        try:
            answers = carrier_adapter(code).poll(
                tracking_numbers=[parcel.tracking_number for parcel in parcels], now=now
            )
        except Exception:  # a carrier down or unknown must not stop the others
            logger.exception("Tracking poll failed for carrier %r", code)
            failed += 1
            continue
        for parcel in parcels:
            updates = answers.get(parcel.tracking_number) or []
            try:
                recorded += tracking_events_record(shipment=parcel, updates=updates)
            except IllegalTransition:
                # The order moved meanwhile (say, cancelled): the events are kept, nothing else.
                logger.info("Tracking for shipment %s changed nothing", parcel.pk)
    return {"polled": len(shipments), "recorded": recorded, "failed": failed}


def _due(*, now: datetime, min_interval: timedelta) -> Q:
    return Q(last_polled_at__isnull=True) | Q(last_polled_at__lte=now - min_interval)


def _claim_due(*, now: datetime, batch_size: int, min_interval: timedelta) -> list[Shipment]:
    due = (
        Shipment.objects.exclude(status__in=FINISHED)
        # A parcel of a cancelled order (cancelled before the carrier collected it) goes nowhere.
        .exclude(order__status=OrderStatus.CANCELLED)
        .filter(_due(now=now, min_interval=min_interval))
        .order_by(F("last_polled_at").asc(nulls_first=True), "id")
    )
    if connection.features.has_select_for_update_skip_locked:
        # PostgreSQL: rows another run holds are skipped, not waited for nor taken twice.
        with transaction.atomic():
            shipments = list(due.select_for_update(skip_locked=True, of=("self",))[:batch_size])
            Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(last_polled_at=now)
        return shipments
    # SQLite serializes writers: a conditional update per parcel claims it for one run only.
    claimed = []
    with transaction.atomic():
        for shipment in due[:batch_size]:
            if (
                Shipment.objects.filter(pk=shipment.pk)
                .filter(_due(now=now, min_interval=min_interval))
                .update(last_polled_at=now)
            ):
                claimed.append(shipment)
    return claimed
