"""Carriers that push their tracking events to us (orders/carriers/__init__.py): polling asks
nothing, and the carrier (or a tracking aggregator) posts signed events to
POST /webhooks/carriers/<carrier code>/.

The request: header `X-Agora-Signature: t=<unix time>,v1=<hex>`, where v1 is the HMAC-SHA256,
keyed with CARRIER_WEBHOOK_SECRET, of f"{t}.{raw body}"; a body such as

    {"tracking_number": "1Z999AA10123456784",
     "events": [{"id": "evt-1", "kind": "in_transit", "occurred_at": "2026-05-01T10:00:00Z",
                 "description": "Departed facility", "location": "Louisville, KY"}]}

Answers: 200 with how many events were new; 400 for a bad or old signature (more than 5 minutes
either way) or a malformed body, stored nowhere; 404 for a carrier that does not push or a
tracking number we do not know; 413 for a body over 64 KB. A replayed request within the 5 minutes
records nothing, each event's id being unique per parcel.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError
from orders.carriers import Carrier, TrackingUpdate, carrier_get, normalize_tracking_number
from orders.models import Shipment, ShipmentStatus
from orders.services.tracking import tracking_events_record

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Agora-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
MAX_EVENTS = 100
# The TrackingEvent and Shipment columns' lengths, so what passes fits.
MAX_EXTERNAL_ID = 100
MAX_DESCRIPTION = 255
MAX_LOCATION = 120
MAX_TRACKING_NUMBER = 40
MAX_CLOCK_AHEAD = timedelta(hours=1)


class WebhookAdapter:
    def __init__(self, carrier: Carrier):
        self.carrier = carrier

    def register_shipment(self, *, tracking_number: str, shipped_at: datetime) -> None:
        """Nothing to tell: the carrier pushes the parcel's events once it has it."""

    def poll(
        self, *, tracking_numbers: list[str], now: datetime | None = None
    ) -> dict[str, list[TrackingUpdate]]:
        return {number: [] for number in tracking_numbers}


def adapter_for(carrier: Carrier) -> WebhookAdapter:
    return WebhookAdapter(carrier)


class CarrierWebhookRejected(DomainError):
    code = "carrier_webhook_rejected"


def signature_for(*, secret: str, timestamp: int, body: bytes) -> str:
    """The v1 value a carrier sends for `body` at `timestamp` (also what tests sign with)."""
    return hmac.new(
        secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256
    ).hexdigest()


def signature_verify(*, body: bytes, header: str | None, secret: str, now: float | None = None):
    """Raise CarrierWebhookRejected unless `header` signs `body` with `secret` recently."""
    if not secret:
        raise CarrierWebhookRejected("Carrier webhooks are not configured.")
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise CarrierWebhookRejected(f"Missing or malformed {SIGNATURE_HEADER} header.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
        raise CarrierWebhookRejected("The signature's timestamp is too old or in the future.")
    expected = signature_for(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise CarrierWebhookRejected("The signature does not match the body.")


def _text(value, *, name: str, max_length: int, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise CarrierWebhookRejected(
            f"{name} must be a non-empty string." if required else f"{name} must be a string."
        )
    if len(value) > max_length:
        raise CarrierWebhookRejected(f"{name} is longer than {max_length} characters.")
    # PostgreSQL stores neither NUL nor a lone surrogate (which JSON's \\ud800 escapes make).
    if "\x00" in value:
        raise CarrierWebhookRejected(f"{name} holds a NUL character.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CarrierWebhookRejected(f"{name} is not valid Unicode text.") from None
    return value


def _moment(value) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise CarrierWebhookRejected("occurred_at must be an ISO 8601 date and time.")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CarrierWebhookRejected("occurred_at must be an ISO 8601 date and time.") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise CarrierWebhookRejected("occurred_at must carry its time zone (e.g. Z or +02:00).")
    # A parcel takes the status of its latest event: one dated ahead would pin it there.
    if moment.year < 2000 or moment > timezone.now() + MAX_CLOCK_AHEAD:
        raise CarrierWebhookRejected("occurred_at is out of range (in the future?).")
    return moment


def payload_parse(body: bytes) -> tuple[str, list[TrackingUpdate]]:
    """The tracking number and events of a request body; CarrierWebhookRejected if malformed."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CarrierWebhookRejected("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise CarrierWebhookRejected("The body must be a JSON object.")
    tracking_number = normalize_tracking_number(
        _text(
            payload.get("tracking_number"),
            name="tracking_number",
            max_length=MAX_TRACKING_NUMBER,
            required=True,
        )
    )
    events = payload.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS:
        raise CarrierWebhookRejected(f"events must be a list of 1 to {MAX_EVENTS} events.")
    updates = []
    for event in events:
        if not isinstance(event, dict):
            raise CarrierWebhookRejected("Each event must be a JSON object.")
        kind = event.get("kind")
        if not isinstance(kind, str) or kind not in ShipmentStatus.values:
            raise CarrierWebhookRejected(f"kind must be one of {', '.join(ShipmentStatus.values)}.")
        updates.append(
            TrackingUpdate(
                kind=kind,
                occurred_at=_moment(event.get("occurred_at")),
                external_id=_text(
                    event.get("id"), name="id", max_length=MAX_EXTERNAL_ID, required=True
                ),
                description=_text(
                    event.get("description"), name="description", max_length=MAX_DESCRIPTION
                ),
                location=_text(event.get("location"), name="location", max_length=MAX_LOCATION),
            )
        )
    return tracking_number, updates


@csrf_exempt  # A carrier cannot send a CSRF token; the signature proves where the request came from.
@require_POST
def carrier_webhook(request, carrier_code: str):
    carrier = carrier_get(carrier_code)
    if carrier is None or carrier.adapter != "webhook":
        return JsonResponse({"error": "No carrier sends events here."}, status=404)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"error": "The body is too large."}, status=413)
    try:
        signature_verify(
            body=body,
            header=request.headers.get(SIGNATURE_HEADER),
            secret=settings.CARRIER_WEBHOOK_SECRET,
        )
        tracking_number, updates = payload_parse(body)
    except CarrierWebhookRejected as error:
        logger.warning("Carrier webhook (%s) rejected: %s", carrier.code, error.message)
        return JsonResponse({"error": error.message}, status=400)
    shipment = Shipment.objects.filter(
        carrier=carrier.code, tracking_number=tracking_number
    ).first()
    if shipment is None:
        return JsonResponse({"error": "No package has this tracking number."}, status=404)
    try:
        recorded = tracking_events_record(shipment=shipment, updates=updates)
    except DomainError as error:  # the package changed meanwhile: the carrier may send again
        return JsonResponse({"error": error.message}, status=409)
    return JsonResponse({"received": len(updates), "recorded": recorded})
