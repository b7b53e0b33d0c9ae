"""Return and refund requests, their evidence, and disputes (docs/architecture.md, "Returns,
refunds and disputes").

A buyer asks about some units of some lines of one delivered seller order (a `ReturnRequest`
with its `ReturnRequestLine`s); the seller answers; goods may travel back in a return parcel
(an orders `Shipment` of direction "return"); money goes back through orders' `refund_issue`, the
one owner of refunds. Every status moves through marketplace.state (RETURN_MACHINE,
DISPUTE_MACHINE below); every deadline is a column a scheduled job reads.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.state import StateMachine, StatusEvent
from marketplace.uploads import private_storage
from orders.models import Order, OrderLine, Refund, Shipment
from sellers.models import Seller


class RequestKind(models.TextChoices):
    REFUND_ONLY = "refund_only", "Refund only"
    RETURN_AND_REFUND = "return_and_refund", "Return and refund"


class RequestReason(models.TextChoices):
    NOT_RECEIVED = "not_received", "Item not received"
    DAMAGED = "damaged", "Arrived damaged or broken"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    WRONG_ITEM = "wrong_item", "Wrong item sent"
    MISSING_PARTS = "missing_parts", "Missing parts or accessories"
    CHANGED_MIND = "changed_mind", "No longer needed"


# Which reasons go with which kind: keeping an item and being refunded needs a fault; sending it
# back may be a change of mind (the shop's return policy allows it within the window).
REASONS_BY_KIND = {
    RequestKind.REFUND_ONLY: (
        RequestReason.NOT_RECEIVED,
        RequestReason.DAMAGED,
        RequestReason.NOT_AS_DESCRIBED,
        RequestReason.MISSING_PARTS,
    ),
    RequestKind.RETURN_AND_REFUND: (
        RequestReason.DAMAGED,
        RequestReason.NOT_AS_DESCRIBED,
        RequestReason.WRONG_ITEM,
        RequestReason.MISSING_PARTS,
        RequestReason.CHANGED_MIND,
    ),
}


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    PARTIAL_REFUND_OFFERED = "partial_refund_offered", "Partial refund offered"
    ACCEPTED = "accepted", "Offer accepted"
    DECLINED = "declined", "Offer declined"
    AWAITING_BUYER_SHIPMENT = "awaiting_buyer_shipment", "Awaiting return shipment"
    BUYER_SHIPPED = "buyer_shipped", "Return on its way"
    RECEIVED = "received", "Return received"
    IN_DISPUTE = "in_dispute", "In dispute"
    REFUNDED = "refunded", "Refunded"
    WITHDRAWN = "withdrawn", "Withdrawn"
    CLOSED = "closed", "Closed"


S = ReturnStatus
# The request's life (TikTok Shop's names where it has them). Approving moves on at once, in the
# same transaction: a refund-only request to refunded, a return to awaiting the buyer's parcel.
# Rejected and declined may still be escalated (to in_dispute) until `escalate_by`.
RETURN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.PARTIAL_REFUND_OFFERED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.REFUNDED, S.AWAITING_BUYER_SHIPMENT}),
    # Closed: the buyer did not answer the offer in time.
    S.PARTIAL_REFUND_OFFERED: frozenset({S.ACCEPTED, S.DECLINED, S.WITHDRAWN, S.CLOSED}),
    S.ACCEPTED: frozenset({S.REFUNDED}),
    S.DECLINED: frozenset({S.IN_DISPUTE}),
    S.REJECTED: frozenset({S.IN_DISPUTE}),
    # Closed: not shipped back within RETURN_BUYER_SHIP_DAYS.
    S.AWAITING_BUYER_SHIPMENT: frozenset({S.BUYER_SHIPPED, S.WITHDRAWN, S.CLOSED}),
    # In dispute: the seller reports a problem with what came back.
    S.BUYER_SHIPPED: frozenset({S.RECEIVED, S.IN_DISPUTE}),
    S.RECEIVED: frozenset({S.REFUNDED}),
    # Staff decide: for the buyer (refunded, in full or in part) or for the seller (closed).
    S.IN_DISPUTE: frozenset({S.REFUNDED, S.CLOSED}),
    S.REFUNDED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.CLOSED: frozenset(),
}

# A request in one of these holds its order lines (one open request per line at a time) and keeps
# its order from completing.
OPEN_STATUSES = frozenset(
    {
        S.REQUESTED,
        S.APPROVED,
        S.PARTIAL_REFUND_OFFERED,
        S.ACCEPTED,
        S.AWAITING_BUYER_SHIPMENT,
        S.BUYER_SHIPPED,
        S.RECEIVED,
        S.IN_DISPUTE,
    }
)
# Either side may escalate a request in one of these until its `escalate_by`.
ESCALATABLE_STATUSES = frozenset({S.REJECTED, S.DECLINED})

# What the buyer reads (the Seller Center and the admin keep the names above).
BUYER_STATUS_LABELS = {
    S.REQUESTED: "Waiting for the seller",
    S.APPROVED: "Approved",
    S.REJECTED: "Rejected by the seller",
    S.PARTIAL_REFUND_OFFERED: "The seller offers a partial refund",
    S.ACCEPTED: "Offer accepted",
    S.DECLINED: "Offer declined",
    S.AWAITING_BUYER_SHIPMENT: "Approved: send the item back",
    S.BUYER_SHIPPED: "Return on its way to the seller",
    S.RECEIVED: "Return received",
    S.IN_DISPUTE: "Under review by the marketplace",
    S.REFUNDED: "Refunded",
    S.WITHDRAWN: "Withdrawn",
    S.CLOSED: "Closed",
}


class ReturnRequest(models.Model):
    """A buyer's request about some units of some lines of one seller order."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="return_requests")
    # Copied from the order so the Seller Center's list and the buyer's filter without a join.
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="return_requests")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="return_requests"
    )
    kind = models.CharField(max_length=20, choices=RequestKind.choices)
    reason = models.CharField(max_length=20, choices=RequestReason.choices)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=30, choices=ReturnStatus.choices, default=S.REQUESTED)
    currency = models.CharField(max_length=3)
    # What the requested units cost (the most a refund of this request may be).
    requested_amount_minor = models.PositiveIntegerField()
    offer_amount_minor = models.PositiveIntegerField(null=True, blank=True)
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="return_request"
    )
    return_shipment = models.OneToOneField(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="return_request"
    )

    # Deadlines; each is read by a job in returns.services.deadlines.
    respond_by = models.DateTimeField(null=True, blank=True)  # the seller, on a new request
    offer_expires_at = models.DateTimeField(null=True, blank=True)  # the buyer, on an offer
    ship_back_by = models.DateTimeField(null=True, blank=True)  # the buyer, an approved return
    return_delivered_at = models.DateTimeField(null=True, blank=True)
    confirm_receipt_by = models.DateTimeField(null=True, blank=True)  # the seller, at receipt
    escalate_by = models.DateTimeField(null=True, blank=True)  # either side, after a refusal

    reject_reason = models.TextField(blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["seller", "status", "-created_at"], name="return_seller_list"),
            models.Index(fields=["buyer", "-created_at"], name="return_buyer_list"),
            models.Index(fields=["status", "respond_by"], name="return_respond_deadline"),
            models.Index(fields=["status", "ship_back_by"], name="return_ship_back_deadline"),
            models.Index(fields=["status", "confirm_receipt_by"], name="return_receipt_deadline"),
            models.Index(fields=["status", "offer_expires_at"], name="return_offer_deadline"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ReturnStatus.values), name="return_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=RequestKind.values), name="return_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(offer_amount_minor__isnull=True)
                | (
                    Q(offer_amount_minor__gt=0)
                    & Q(offer_amount_minor__lte=models.F("requested_amount_minor"))
                ),
                name="return_offer_within_request",
            ),
        ]

    def __str__(self):
        return f"Return {self.number} ({self.status})"

    @property
    def number(self) -> str:
        return f"R{self.pk:07d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def buyer_status_label(self) -> str:
        return BUYER_STATUS_LABELS.get(self.status, self.get_status_display())


class ReturnRequestLine(models.Model):
    """How many units of one order line the request is about."""

    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    amount_minor = models.PositiveIntegerField()  # unit price x quantity, at the time of asking
    # True while the request is open: the partial unique index below lets one open request hold a
    # line at a time, whatever two requests (two tabs) do at once.
    holds_line = models.BooleanField(default=True)
    # At receipt the seller may say some units cannot be sold again; the rest go back in stock.
    not_resellable_quantity = models.PositiveIntegerField(default=0)
    restocked_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order_line"],
                condition=Q(holds_line=True),
                name="return_one_open_request_per_line",
            ),
            models.UniqueConstraint(
                fields=["request", "order_line"], name="return_line_unique_order_line"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity"),
            models.CheckConstraint(
                condition=Q(not_resellable_quantity__lte=models.F("quantity"))
                & Q(restocked_quantity__lte=models.F("quantity")),
                name="return_line_restock_within_quantity",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x line {self.order_line_id}"


class Party(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    STAFF = "staff", "Marketplace"


class EvidenceStage(models.TextChoices):
    REQUEST = "request", "With the request"
    REJECTION = "rejection", "With the rejection"
    RECEIPT = "receipt", "At receipt of the return"
    DISPUTE = "dispute", "In the dispute"


class ReturnEvidence(models.Model):
    """A photo (or PDF) one side attached; stored privately, served only to the buyer, the shop
    and staff (returns.views)."""

    request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="evidence")
    party = models.CharField(max_length=10, choices=Party.choices)
    stage = models.CharField(max_length=10, choices=EvidenceStage.choices)
    file = models.FileField(storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=40)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "return evidence"

    def __str__(self):
        return f"{self.party} evidence for {self.request_id}: {self.original_name}"


class ReturnStatusEvent(StatusEvent):
    """One row per change of a request's status: the timeline both sides and staff read."""

    request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="status_events"
    )
    from_status = models.CharField(max_length=30, choices=ReturnStatus.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=ReturnStatus.choices)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.request_id}: {self.from_status or '-'} -> {self.to_status}"


RETURN_MACHINE = StateMachine(
    model=ReturnRequest,
    transitions=RETURN_TRANSITIONS,
    audit=ReturnStatusEvent,
    illegal_message="A request cannot go from {from_label} to {to_label}.",
)


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Waiting for the marketplace"
    DECIDED_FOR_BUYER = "decided_for_buyer", "Decided for the buyer"
    DECIDED_FOR_SELLER = "decided_for_seller", "Decided for the seller"


class Dispute(models.Model):
    """An escalated request, waiting in the staff's arbitration queue (the admin)."""

    request = models.OneToOneField(ReturnRequest, on_delete=models.PROTECT, related_name="dispute")
    opened_by = models.CharField(max_length=10, choices=Party.choices)
    opened_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Each side's case in its own words (the opener's with the escalation; the other side may add
    # theirs while the dispute is open).
    buyer_statement = models.TextField(blank=True)
    seller_statement = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=DisputeStatus.choices, default="open")
    refund_amount_minor = models.PositiveIntegerField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"], name="dispute_queue")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DisputeStatus.values), name="dispute_status_valid"
            ),
        ]

    def __str__(self):
        return f"Dispute {self.pk} on R{self.request_id:07d} ({self.get_status_display().lower()})"


DISPUTE_MACHINE = StateMachine(
    model=Dispute,
    transitions={
        DisputeStatus.OPEN: frozenset(
            {DisputeStatus.DECIDED_FOR_BUYER, DisputeStatus.DECIDED_FOR_SELLER}
        ),
        DisputeStatus.DECIDED_FOR_BUYER: frozenset(),
        DisputeStatus.DECIDED_FOR_SELLER: frozenset(),
    },
)
