"""Carriers: the list sellers choose from, each carrier's tracking-number format, and the adapter
that brings its tracking events in (docs/architecture.md, "Shipping and tracking, cancellations
and refunds").

Every adapter speaks one protocol (`CarrierAdapter`): `register_shipment` when a package is
shipped, and `poll` for tracking numbers, answering normalized `TrackingUpdate`s whose `kind` is a
`orders.models.ShipmentStatus`. Two adapters exist:
- `demo` (orders/carriers/demo.py): moves parcels through every state on a schedule derived from
  the time of shipment, so the demo data and the tests see real movement with no server;
- `webhook` (orders/carriers/webhook.py): a carrier (or a tracking aggregator) posts signed
  tracking events to us; polling asks nothing. It is the pattern a real carrier plugs into.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import Protocol


@dataclass(frozen=True)
class TrackingUpdate:
    """One tracking event as every adapter reports it."""

    kind: str  # an orders.models.ShipmentStatus value
    occurred_at: datetime
    external_id: str  # unique per shipment: the same event polled twice is recorded once
    description: str = ""
    location: str = ""


class CarrierAdapter(Protocol):
    def register_shipment(self, *, tracking_number: str, shipped_at: datetime) -> None: ...

    def poll(
        self, *, tracking_numbers: list[str], now: datetime | None = None
    ) -> dict[str, list[TrackingUpdate]]:
        """Every event known for each tracking number (a number the carrier does not know maps
        to an empty list). Events already recorded may come again; the caller skips them.
        `now` is the time the caller asks at (default: the clock); a real carrier answers what it
        knows and ignores it, the demo carrier reports what is due by then."""
        ...


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    # The whole tracking number must match (after spaces are removed and letters upper-cased).
    tracking_pattern: str
    example: str
    adapter: str  # "demo" or "webhook": a module of orders.carriers

    def tracking_number_error(self, tracking_number: str) -> str | None:
        if re.fullmatch(self.tracking_pattern, tracking_number):
            return None
        return f"A {self.name} tracking number looks like {self.example}."


CARRIERS: tuple[Carrier, ...] = (
    Carrier("demo", "Agora Demo Post", r"DP[0-9]{10}", "DP0123456789", "demo"),
    Carrier("ups", "UPS", r"1Z[0-9A-Z]{16}", "1Z999AA10123456784", "webhook"),
    Carrier(
        "usps",
        "USPS",
        r"(9[0-9]{19,21}|[A-Z]{2}[0-9]{9}US)",
        "9400111899223197428490",
        "webhook",
    ),
    Carrier("fedex", "FedEx", r"([0-9]{12}|[0-9]{15})", "123456789012", "webhook"),
    Carrier("dhl", "DHL Express", r"[0-9]{10}", "1234567890", "webhook"),
)
_BY_CODE = {carrier.code: carrier for carrier in CARRIERS}


def normalize_tracking_number(tracking_number: str) -> str:
    return "".join((tracking_number or "").split()).upper()


def carrier_choices() -> list[tuple[str, str]]:
    return [(carrier.code, carrier.name) for carrier in CARRIERS]


def carrier_get(code: str) -> Carrier | None:
    return _BY_CODE.get(code)


def tracking_number_error(*, carrier_code: str, tracking_number: str) -> str | None:
    """Why this tracking number cannot be the carrier's (None when it can). Normalize first."""
    carrier = carrier_get(carrier_code)
    if carrier is None:
        return "Choose a carrier from the list."
    return carrier.tracking_number_error(tracking_number)


def carrier_adapter(code: str) -> CarrierAdapter:
    """The adapter that brings in this carrier's tracking events."""
    carrier = carrier_get(code)
    if carrier is None:
        raise LookupError(f"No carrier {code!r}.")
    return import_module(f"orders.carriers.{carrier.adapter}").adapter_for(carrier)
