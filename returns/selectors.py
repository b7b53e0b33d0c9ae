"""Reads for the Seller Center's Returns section. Every function takes `seller=` and filters by
it, so another seller's request (or its evidence) is simply not found: 404 in the views."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from orders.models import TrackingEvent
from returns.models import (
    ESCALATABLE_STATUSES,
    ReturnEvidence,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
    ReturnStatusEvent,
)
from sellers.models import Seller

S = ReturnStatus


@dataclass(frozen=True)
class SellerReturnTab:
    key: str
    label: str
    condition: Q | None  # None: every request of the seller


# What the seller should do next, tab by tab; "Closed" holds everything no longer waiting for
# anyone (refunded, rejected, declined, withdrawn, closed, and the passing states of a step).
_WAITING = (
    S.REQUESTED,
    S.PARTIAL_REFUND_OFFERED,
    S.AWAITING_BUYER_SHIPMENT,
    S.BUYER_SHIPPED,
    S.IN_DISPUTE,
)
SELLER_RETURN_TABS: tuple[SellerReturnTab, ...] = (
    SellerReturnTab("all", "All", None),
    SellerReturnTab("to_respond", "To respond", Q(status=S.REQUESTED)),
    SellerReturnTab(
        "awaiting_return",
        "Awaiting return",
        Q(status=S.AWAITING_BUYER_SHIPMENT)
        | Q(status=S.BUYER_SHIPPED, return_delivered_at__isnull=True),
    ),
    SellerReturnTab(
        "to_confirm",
        "To confirm receipt",
        Q(status=S.BUYER_SHIPPED, return_delivered_at__isnull=False),
    ),
    SellerReturnTab("in_dispute", "In dispute", Q(status=S.IN_DISPUTE)),
    # A partial refund offered: waiting for the buyer's answer.
    SellerReturnTab("offers", "Offers", Q(status=S.PARTIAL_REFUND_OFFERED)),
    SellerReturnTab("closed", "Closed", ~Q(status__in=_WAITING)),
)
SELLER_RETURN_TABS_BY_KEY = {tab.key: tab for tab in SELLER_RETURN_TABS}
# The most urgent first where the seller has a deadline; newest first elsewhere.
_TAB_ORDERING = {
    "to_respond": ("respond_by", "id"),
    "to_confirm": ("confirm_receipt_by", "id"),
}

_REQUEST_NUMBER = re.compile(r"^#?R0*(\d{1,12})$", re.IGNORECASE)
_ORDER_NUMBER = re.compile(r"^#?A0*(\d{1,12})$", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"^#?0*(\d{1,12})$")


def clean_search(text: str) -> str:
    # NUL cannot be in a PostgreSQL string: a pasted one would fail the query, not match nothing.
    return " ".join((text or "").replace("\x00", "").split())[:100]


def _search(rows: QuerySet[ReturnRequest], search: str) -> QuerySet[ReturnRequest]:
    """A request number ("R0000012"), an order number ("A0000012"), a bare number (either), or
    part of the buyer's email address or name (or the name the order shipped to)."""
    search = clean_search(search)
    if not search:
        return rows
    condition = (
        Q(buyer__email__icontains=search)
        | Q(buyer__full_name__icontains=search)
        | Q(order__ship_name__icontains=search)
    )
    if match := _REQUEST_NUMBER.match(search):
        condition |= Q(pk=int(match.group(1)))
    elif match := _ORDER_NUMBER.match(search):
        condition |= Q(order_id=int(match.group(1)))
    elif match := _BARE_NUMBER.match(search):
        condition |= Q(pk=int(match.group(1))) | Q(order_id=int(match.group(1)))
    return rows.filter(condition)


def seller_return_requests(
    *, seller: Seller, tab: str | None = None, search: str = ""
) -> QuerySet[ReturnRequest]:
    """The seller's requests, one tab's (a key of SELLER_RETURN_TABS) and a search, with the
    order, the buyer and the lines (with their order lines) loaded: two queries for any page."""
    rows = _search(ReturnRequest.objects.filter(seller=seller), search)
    chosen = SELLER_RETURN_TABS_BY_KEY.get(tab or "")
    if chosen is not None and chosen.condition is not None:
        rows = rows.filter(chosen.condition)
    ordering = _TAB_ORDERING.get(chosen.key if chosen else "", ("-created_at", "-id"))
    return (
        rows.select_related("order", "buyer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnRequestLine.objects.select_related("order_line").order_by("id"),
            )
        )
        .order_by(*ordering)
    )


def seller_return_tab_counts(*, seller: Seller, search: str = "") -> dict[str, int]:
    """How many of the seller's requests (matching `search`) each tab holds: one query."""
    rows = _search(ReturnRequest.objects.filter(seller=seller), search)
    counts = {
        tab.key: Count("id", filter=tab.condition) if tab.condition is not None else Count("id")
        for tab in SELLER_RETURN_TABS
    }
    return rows.order_by().aggregate(**counts)


def seller_return_get(*, seller: Seller, request_id: int) -> ReturnRequest:
    """One of the seller's requests with everything its page shows (lines, evidence, timeline,
    the return parcel and its tracking events, the refund, the dispute); another seller's answers
    404."""
    return get_object_or_404(
        ReturnRequest.objects.filter(seller=seller)
        .select_related("order", "buyer", "refund", "return_shipment", "dispute")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ReturnRequestLine.objects.select_related("order_line").order_by("id"),
            ),
            Prefetch("evidence", queryset=ReturnEvidence.objects.order_by("created_at", "id")),
            Prefetch(
                "status_events",
                queryset=ReturnStatusEvent.objects.order_by("created_at", "id"),
            ),
            Prefetch(
                "return_shipment__events",
                queryset=TrackingEvent.objects.order_by("-occurred_at", "-id"),
            ),
        ),
        pk=request_id,
    )


def seller_return_head(*, seller: Seller, request_id: int) -> ReturnRequest:
    """Just enough of one of the seller's requests for an action to start (its id, status and
    currency), or 404: one query."""
    return get_object_or_404(
        ReturnRequest.objects.filter(seller=seller).only("id", "status", "currency"),
        pk=request_id,
    )


def seller_return_evidence_get(
    *, seller: Seller, request_id: int, evidence_id: int
) -> ReturnEvidence:
    """One file attached to one of the seller's requests (by either side); 404 otherwise."""
    return get_object_or_404(
        ReturnEvidence.objects.filter(request__seller=seller, request_id=request_id),
        pk=evidence_id,
    )


@dataclass(frozen=True)
class ReturnDeadline:
    at: datetime
    # How the time left reads: "respond in" + "5 h".
    lead: str
    # True when the seller must act by then; False when it is the buyer's (or anyone's) move.
    sellers: bool


def request_deadline(request: ReturnRequest) -> ReturnDeadline | None:
    """The deadline that applies to the request now, if any (no query)."""
    status = request.status
    if status == S.REQUESTED and request.respond_by:
        return ReturnDeadline(request.respond_by, "respond in", True)
    if status == S.PARTIAL_REFUND_OFFERED and request.offer_expires_at:
        return ReturnDeadline(request.offer_expires_at, "buyer answers in", False)
    if status == S.AWAITING_BUYER_SHIPMENT and request.ship_back_by:
        return ReturnDeadline(request.ship_back_by, "buyer ships in", False)
    if status == S.BUYER_SHIPPED and request.confirm_receipt_by:
        return ReturnDeadline(request.confirm_receipt_by, "confirm in", True)
    if status in ESCALATABLE_STATUSES and request.escalate_by:
        return ReturnDeadline(request.escalate_by, "may escalate for", False)
    return None
