"""The demo carrier: parcels move through every state on a schedule derived from the time of
shipment, with no server and no stored state of its own, so the demo data and the tests see real
movement (orders/carriers/__init__.py).

A parcel's events are due at fixed steps after its Shipment.created_at, one step being
DEMO_CARRIER_STEP_MINUTES: label created at once, collected after 1 step, in transit after 2, out
for delivery after 3, delivered after 4. A tracking number ending in 13 has a delivery problem at
step 3 and is delivered a step later: a deterministic way to show the exception state.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from orders.carriers import Carrier, TrackingUpdate
from orders.models import Shipment, ShipmentStatus

# (kind, step, description, location) in the order they happen.
_SCHEDULE = (
    (ShipmentStatus.LABEL_CREATED, 0, "Shipping label created", ""),
    (ShipmentStatus.COLLECTED, 1, "Picked up by the carrier", "Origin depot"),
    (ShipmentStatus.IN_TRANSIT, 2, "On its way: left the sorting centre", "Sorting centre"),
    (ShipmentStatus.OUT_FOR_DELIVERY, 3, "Out for delivery today", "Local depot"),
    (ShipmentStatus.DELIVERED, 4, "Delivered", ""),
)
_SCHEDULE_WITH_PROBLEM = (
    *_SCHEDULE[:3],
    (ShipmentStatus.EXCEPTION, 3, "Delivery attempted: nobody was home", "Local depot"),
    (ShipmentStatus.OUT_FOR_DELIVERY, 4, "Out for delivery again", "Local depot"),
    (ShipmentStatus.DELIVERED, 5, "Delivered", ""),
)


def schedule_for(tracking_number: str) -> tuple:
    return _SCHEDULE_WITH_PROBLEM if tracking_number.endswith("13") else _SCHEDULE


def events_due(*, tracking_number: str, shipped_at: datetime, now: datetime, step: timedelta):
    """The events of one parcel shipped at `shipped_at` that have happened by `now`, in order."""
    return [
        TrackingUpdate(
            kind=str(kind),
            occurred_at=shipped_at + steps * step,
            external_id=f"{tracking_number}:{kind}",
            description=description,
            location=location,
        )
        for kind, steps, description, location in schedule_for(tracking_number)
        if shipped_at + steps * step <= now
    ]


class DemoCarrierAdapter:
    def __init__(self, carrier: Carrier):
        self.carrier = carrier

    def register_shipment(self, *, tracking_number: str, shipped_at: datetime) -> None:
        """Nothing to tell: the schedule follows from the shipment's own created_at."""

    def poll(
        self, *, tracking_numbers: list[str], now: datetime | None = None
    ) -> dict[str, list[TrackingUpdate]]:
        now = now or timezone.now()
        step = timedelta(minutes=settings.DEMO_CARRIER_STEP_MINUTES)
        shipped = dict(
            Shipment.objects.filter(
                carrier=self.carrier.code, tracking_number__in=tracking_numbers
            ).values_list("tracking_number", "created_at")
        )
        return {
            number: events_due(
                tracking_number=number, shipped_at=shipped[number], now=now, step=step
            )
            if number in shipped
            else []
            for number in tracking_numbers
        }


def adapter_for(carrier: Carrier) -> DemoCarrierAdapter:
    return DemoCarrierAdapter(carrier)
