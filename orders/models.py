"""Cart, checkout and seller orders (docs/architecture.md, "Orders and checkout").

One checkout (one payment) creates one Order per seller. Order lines copy what was sold, so a
later edit of the product never changes an order. Every change of an order's or a checkout's
status goes through marketplace.state (ORDER_MACHINE, CHECKOUT_MACHINE below), which refuses
anything not in their tables (docs/architecture.md, "State machines").
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import SKU
from marketplace.state import StateMachine, StatusEvent
from policies.models import Category
from sellers.models import Seller


class Cart(models.Model):
    """A shopper's cart: by user when signed in, else by a random key kept in the session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    # A random token stored in the session data (not the session id, which login rotates).
    session_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(session_key__isnull=False),
                name="cart_has_owner",
            )
        ]

    def __str__(self):
        return f"Cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(SKU, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # The price the shopper saw when adding (or last changing) the line, to point out changes.
    price_seen_minor = models.PositiveIntegerField(null=True, blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_unique_sku"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.sku_id}"


class BuyerAddress(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="addresses"
    )
    name = models.CharField(max_length=120)
    line1 = models.CharField("Address line 1", max_length=200)
    line2 = models.CharField("Address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField("State / region", max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="US")
    phone = models.CharField(max_length=30, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_default", "-created_at", "-id"]
        verbose_name_plural = "buyer addresses"

    def __str__(self):
        return f"{self.name}, {self.line1}, {self.city}"

    @property
    def one_line(self) -> str:
        parts = [self.line1, self.line2, self.city, self.region, self.postal_code, self.country]
        return ", ".join(part for part in parts if part)


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Awaiting payment"
    PAID = "paid", "Paid"
    FAILED = "failed", "Payment failed"
    EXPIRED = "expired", "Expired"


class Checkout(models.Model):
    """One payment for the orders of several sellers."""

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkouts"
    )
    status = models.CharField(
        max_length=10, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    total_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    gateway_payment_id = models.CharField(max_length=100, blank=True)
    # The key of the latest payment attempt (payment:checkout:<id>, then :attempt-<n> for each
    # retry), recorded with the attempt's outcome; empty (NULL) before the first one.
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    payment_attempts = models.PositiveSmallIntegerField(default=0)
    # Attempts the card issuer refused (not counting an unreachable provider): they shorten and
    # finally release the reservation (orders.services.checkout.checkout_mark_failed).
    declines = models.PositiveSmallIntegerField(default=0)
    failure_message = models.CharField(max_length=300, blank=True)
    # A random token put in the checkout page when it is shown: the same page submitted again (a
    # double-click, a resubmit, a retry by a flaky network) finds this checkout instead of paying
    # a second time. NULL, not "", for checkouts placed without a page (demo data), so the unique
    # constraint below never sees two of them as equal.
    submit_token = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=CheckoutStatus.values), name="checkout_status_valid"
            ),
            models.UniqueConstraint(
                fields=["buyer", "submit_token"], name="checkout_submit_token_unique"
            ),
            # The cart is claimed by one checkout at a time: a buyer has at most one checkout
            # waiting for its payment. A second one (another tab) is refused by the database even
            # if two requests pass the service's check at once; a new checkout first releases
            # the buyer's failed one (orders.services.checkout).
            models.UniqueConstraint(
                fields=["buyer"],
                condition=Q(status__in=["open", "failed"]),
                name="checkout_one_unpaid_per_buyer",
            ),
        ]

    # Set by checkout_place on a checkout it did not place but found (the same page submitted
    # again); not stored.
    replayed = False

    def __str__(self):
        return f"Checkout {self.pk} ({self.status})"


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", "Awaiting payment"
    ON_HOLD = "on_hold", "Paid (on hold)"
    AWAITING_SHIPMENT = "awaiting_shipment", "Awaiting shipment"
    AWAITING_COLLECTION = "awaiting_collection", "Awaiting collection"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# The order state machine (ORDER_MACHINE below). Orders move through marketplace.state: one at a
# time with orders.services.transitions.order_transition and the checkout's expiry, in a batch when
# a checkout is paid (orders.services.checkout). Anything not listed here is refused.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.UNPAID: frozenset({OrderStatus.ON_HOLD, OrderStatus.CANCELLED}),
    OrderStatus.ON_HOLD: frozenset({OrderStatus.AWAITING_SHIPMENT, OrderStatus.CANCELLED}),
    OrderStatus.AWAITING_SHIPMENT: frozenset(
        {OrderStatus.AWAITING_COLLECTION, OrderStatus.IN_TRANSIT, OrderStatus.CANCELLED}
    ),
    # Cancellable until the carrier has collected the parcel.
    OrderStatus.AWAITING_COLLECTION: frozenset({OrderStatus.IN_TRANSIT, OrderStatus.CANCELLED}),
    OrderStatus.IN_TRANSIT: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset({OrderStatus.COMPLETED}),
    OrderStatus.COMPLETED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class Order(models.Model):
    """What one seller sells to one buyer in one checkout."""

    checkout = models.ForeignKey(Checkout, on_delete=models.PROTECT, related_name="orders")
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.UNPAID
    )
    subtotal_minor = models.PositiveIntegerField()
    shipping_minor = models.PositiveIntegerField(default=0)
    total_minor = models.PositiveIntegerField()
    commission_bps = models.PositiveIntegerField(
        help_text="The rate of the lines when they share one; else the effective rate, rounded."
    )
    commission_minor = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)

    # The shipping address, copied: editing a saved address never changes an order.
    ship_name = models.CharField(max_length=120)
    ship_line1 = models.CharField(max_length=200)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postal_code = models.CharField(max_length=20)
    ship_country = models.CharField(max_length=2)
    ship_phone = models.CharField(max_length=30, blank=True)

    # The shop's return window when the order was placed (returns.services.requests): the buyer
    # keeps the terms they bought under if the shop changes its window later.
    return_window_days = models.PositiveSmallIntegerField(null=True, blank=True)

    paid_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    cancel_window_ends_at = models.DateTimeField(null=True, blank=True)
    # Deadlines, set when the order starts waiting for shipment: missing ship_by cancels the order
    # (and counts against the shop); deliver_by is what the buyer is promised.
    ship_by = models.DateTimeField(null=True, blank=True)
    deliver_by = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When the settlement job released what the order still held to the seller and the platform
    # (orders.services.settlement); None until then.
    settled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_list"),
            models.Index(fields=["seller", "status", "-created_at"], name="order_seller_list"),
            models.Index(fields=["status", "expires_at"], name="order_unpaid_expiry"),
            models.Index(fields=["status", "ship_by"], name="order_ship_by"),
            models.Index(fields=["status", "delivered_at"], name="order_auto_complete"),
            models.Index(
                fields=["completed_at", "id"],
                condition=Q(status="completed", settled_at__isnull=True),
                name="order_settlement_queue",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=OrderStatus.values), name="order_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(total_minor=models.F("subtotal_minor") + models.F("shipping_minor")),
                name="order_total_is_subtotal_plus_shipping",
            ),
        ]

    def __str__(self):
        return f"Order {self.pk}"

    @property
    def number(self) -> str:
        return f"A{self.pk:07d}"

    @property
    def ship_one_line(self) -> str:
        parts = [
            self.ship_line1,
            self.ship_line2,
            self.ship_city,
            self.ship_region,
            self.ship_postal_code,
            self.ship_country,
        ]
        return ", ".join(part for part in parts if part)

    def can_transition_to(self, status: str) -> bool:
        return ORDER_MACHINE.allows(self.status, status)

    @property
    def buyer_status_label(self) -> str:
        """The status in the buyer's words (the seller and staff see the platform's names)."""
        return BUYER_STATUS_LABELS.get(self.status, self.get_status_display())


# What the buyer reads; the Seller Center and the admin keep the platform's names.
BUYER_STATUS_LABELS = {
    OrderStatus.UNPAID: "Awaiting payment",
    OrderStatus.ON_HOLD: "Paid: on hold",
    OrderStatus.AWAITING_SHIPMENT: "Preparing to ship",
    OrderStatus.AWAITING_COLLECTION: "Shipped",
    OrderStatus.IN_TRANSIT: "On its way",
    OrderStatus.DELIVERED: "Delivered",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Cancelled",
}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(SKU, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    product_id_copy = models.PositiveIntegerField(null=True, blank=True)
    product_title = models.CharField(max_length=200)
    sku_code = models.CharField(max_length=64)
    option_label = models.CharField(max_length=200, blank=True)
    unit_price_minor = models.PositiveIntegerField()
    quantity = models.PositiveIntegerField()
    line_total_minor = models.PositiveIntegerField()
    commission_bps = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_line_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(line_total_minor=models.F("unit_price_minor") * models.F("quantity")),
                name="order_line_total",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_title}"


class OrderStatusEvent(StatusEvent):
    """One row per change of an order's status; the first (from "") is the order being placed."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_events")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"


ORDER_MACHINE = StateMachine(
    model=Order,
    transitions=ORDER_TRANSITIONS,
    audit=OrderStatusEvent,
    illegal_message="An order cannot go from {from_label} to {to_label}.",
)

# A checkout waits for its payment (open), may fail and be retried (failed -> open), and ends
# paid, or expired when its reservation is given up (orders.services.checkout).
CHECKOUT_MACHINE = StateMachine(
    model=Checkout,
    transitions={
        CheckoutStatus.OPEN: frozenset(
            {CheckoutStatus.PAID, CheckoutStatus.FAILED, CheckoutStatus.EXPIRED}
        ),
        CheckoutStatus.FAILED: frozenset(
            {CheckoutStatus.OPEN, CheckoutStatus.PAID, CheckoutStatus.EXPIRED}
        ),
        CheckoutStatus.PAID: frozenset(),
        CheckoutStatus.EXPIRED: frozenset(),
    },
)


# --- Shipments and tracking ------------------------------------------------------------------


class ShipmentStatus(models.TextChoices):
    """A parcel's state, as every carrier adapter normalizes its tracking events."""

    LABEL_CREATED = "label_created", "Label created"
    COLLECTED = "collected", "Collected by the carrier"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Delivery problem"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"


class ShipmentDirection(models.TextChoices):
    OUTBOUND = "outbound", "To the buyer"
    # A parcel the buyer sends back for a return (returns app); tracked by the same job, but it
    # never moves the order (orders.services.tracking).
    RETURN = "return", "Back to the seller"


class Shipment(models.Model):
    """One package of an order, with the carrier's tracking number; an order may ship in several,
    and a return travels back in one of direction "return"."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    direction = models.CharField(
        max_length=10, choices=ShipmentDirection.choices, default=ShipmentDirection.OUTBOUND
    )
    # Copied from the order so the tracking job and seller pages filter without a join.
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=30)  # a code of orders.carriers
    tracking_number = models.CharField(max_length=40)
    status = models.CharField(
        max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.LABEL_CREATED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the tracking job last asked the carrier (None: never): it polls the stalest first.
    last_polled_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "last_polled_at"], name="shipment_poll_queue")]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"], name="shipment_tracking_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ShipmentStatus.values), name="shipment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(direction__in=ShipmentDirection.values),
                name="shipment_direction_valid",
            ),
        ]

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}"


_OPEN_PARCEL = {
    ShipmentStatus.COLLECTED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.OUT_FOR_DELIVERY,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.EXCEPTION,
    ShipmentStatus.RETURNED_TO_SENDER,
}
# Carriers report out of order and skip steps; a parcel only stops at delivered or returned.
SHIPMENT_MACHINE = StateMachine(
    model=Shipment,
    transitions={
        ShipmentStatus.LABEL_CREATED: frozenset(_OPEN_PARCEL),
        ShipmentStatus.COLLECTED: frozenset(_OPEN_PARCEL - {ShipmentStatus.COLLECTED}),
        ShipmentStatus.IN_TRANSIT: frozenset(
            _OPEN_PARCEL - {ShipmentStatus.COLLECTED, ShipmentStatus.IN_TRANSIT}
        ),
        ShipmentStatus.OUT_FOR_DELIVERY: frozenset(
            {
                ShipmentStatus.IN_TRANSIT,
                ShipmentStatus.DELIVERED,
                ShipmentStatus.EXCEPTION,
                ShipmentStatus.RETURNED_TO_SENDER,
            }
        ),
        ShipmentStatus.EXCEPTION: frozenset(
            {
                ShipmentStatus.IN_TRANSIT,
                ShipmentStatus.OUT_FOR_DELIVERY,
                ShipmentStatus.DELIVERED,
                ShipmentStatus.RETURNED_TO_SENDER,
            }
        ),
        ShipmentStatus.DELIVERED: frozenset(),
        ShipmentStatus.RETURNED_TO_SENDER: frozenset(),
    },
)


class ShipmentLine(models.Model):
    """How many units of an order line travel in a package."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "order_line"], name="shipment_line_unique_order_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x line {self.order_line_id}"


class TrackingEvent(models.Model):
    """A carrier's tracking event, normalized; recorded once (its external id is unique per
    shipment, so a second poll or a replayed webhook adds nothing)."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ShipmentStatus.choices)
    occurred_at = models.DateTimeField()
    description = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=120, blank=True)
    external_id = models.CharField(max_length=100)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "external_id"], name="tracking_event_once"),
        ]

    def __str__(self):
        return f"{self.shipment_id}: {self.kind} at {self.occurred_at:%Y-%m-%d %H:%M}"


# --- Cancellations and refunds ---------------------------------------------------------------


class CancellationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the seller"
    APPROVED = "approved", "Cancelled"
    REJECTED = "rejected", "Rejected by the seller"
    WITHDRAWN = "withdrawn", "Withdrawn by the buyer"


class CancellationInitiator(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    SYSTEM = "system", "Marketplace"


class CancellationReason(models.TextChoices):
    # The buyer's
    CHANGED_MIND = "changed_mind", "I changed my mind"
    ORDERED_BY_MISTAKE = "ordered_by_mistake", "I ordered by mistake"
    WRONG_ADDRESS = "wrong_address", "Wrong shipping address or details"
    FOUND_CHEAPER = "found_cheaper", "I found it cheaper elsewhere"
    TOO_SLOW = "too_slow", "Delivery takes too long"
    # The seller's (out of stock counts against the shop's fulfilment record)
    OUT_OF_STOCK = "out_of_stock", "Out of stock"
    PRICING_ERROR = "pricing_error", "Pricing error"
    CANNOT_SHIP_TO_ADDRESS = "cannot_ship_to_address", "Cannot ship to this address"
    BUYER_ASKED = "buyer_asked", "The buyer asked to cancel"
    # The marketplace's
    SHIP_BY_MISSED = "ship_by_missed", "Not shipped in time"
    OTHER = "other", "Other"


class OrderCancellation(models.Model):
    """A cancellation of one seller order: asked by the buyer after the free window (pending until
    the seller answers or the deadline approves it), or made at once (the buyer within the window,
    the seller before shipment, the marketplace at a missed deadline: created approved)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="cancellations")
    initiated_by = models.CharField(max_length=10, choices=CancellationInitiator.choices)
    reason = models.CharField(max_length=30, choices=CancellationReason.choices)
    note = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=CancellationStatus.choices, default=CancellationStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A pending request is approved by the deadline job when the seller has not answered by then.
    respond_by = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "respond_by"], name="cancellation_deadline")]
        constraints = [
            # One open request (or one cancellation) per order at a time.
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(status__in=["pending", "approved"]),
                name="cancellation_one_open_per_order",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CancellationStatus.values), name="cancellation_status_valid"
            ),
        ]

    def __str__(self):
        return f"Cancellation {self.pk} of order {self.order_id} ({self.status})"


CANCELLATION_MACHINE = StateMachine(
    model=OrderCancellation,
    transitions={
        CancellationStatus.PENDING: frozenset(
            {
                CancellationStatus.APPROVED,
                CancellationStatus.REJECTED,
                CancellationStatus.WITHDRAWN,
            }
        ),
        CancellationStatus.APPROVED: frozenset(),
        CancellationStatus.REJECTED: frozenset(),
        CancellationStatus.WITHDRAWN: frozenset(),
    },
)


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Refund pending"
    SUCCEEDED = "succeeded", "Refunded"
    FAILED = "failed", "Refund failed (retrying)"


class RefundReason(models.TextChoices):
    CANCELLATION = "cancellation", "Order cancelled"
    RETURN = "return", "Return or refund request"
    LATE_PAYMENT = "late_payment", "Paid after the order expired"


class Refund(models.Model):
    """Money going back to the buyer for one seller order, through the payment gateway. Stored
    (pending) before the gateway is called, with an idempotency key built from the stored id of
    what caused it, so a retry never refunds twice; a failure stays visible and a job retries.
    Written only by orders.services.refunds: `refund_issue` for paid orders (it checks the
    amounts per line) and `refund_late_payment` for a payment that came after its orders expired."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    cancellation = models.OneToOneField(
        OrderCancellation, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )
    reason = models.CharField(
        max_length=20, choices=RefundReason.choices, default=RefundReason.CANCELLATION
    )
    amount_minor = models.PositiveIntegerField()
    # The part of amount_minor that gives the shipping fee back (only when the whole order is
    # refunded); the rest is spread over the RefundLines.
    shipping_minor = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    idempotency_key = models.CharField(max_length=120, unique=True)
    gateway_refund_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="refund_retry_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=RefundStatus.values), name="refund_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(shipping_minor__lte=models.F("amount_minor")),
                name="refund_shipping_within_amount",
            ),
        ]

    def __str__(self):
        return f"Refund {self.pk} of order {self.order_id} ({self.status})"


class RefundLine(models.Model):
    """How much of a refund goes to one order line, and how many of its units it settles (a
    partial refund on a kept item settles its units with less than their price). The sums per
    line never exceed what the line cost nor its quantity (orders.services.refunds)."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="refund_lines")
    quantity = models.PositiveIntegerField()
    amount_minor = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "order_line"], name="refund_line_unique_order_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0) | Q(amount_minor__gt=0),
                name="refund_line_not_empty",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x line {self.order_line_id}: {self.amount_minor}"


REFUND_MACHINE = StateMachine(
    model=Refund,
    transitions={
        RefundStatus.PENDING: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
        # A failed refund is tried again by the retry job (failed -> pending -> ...).
        RefundStatus.FAILED: frozenset({RefundStatus.PENDING, RefundStatus.SUCCEEDED}),
        RefundStatus.SUCCEEDED: frozenset(),
    },
)


class CategoryCommission(models.Model):
    """A platform commission rate for a category and everything below it, from a date on."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    rate_bps = models.PositiveIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10_000)]
    )
    effective_from = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category_id", "-effective_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_bps__gte=0) & Q(rate_bps__lte=10_000),
                name="category_commission_rate_range",
            ),
            models.UniqueConstraint(
                fields=["category", "effective_from"], name="category_commission_unique_start"
            ),
        ]

    def __str__(self):
        return f"{self.category_id}: {self.rate_bps} bps from {self.effective_from:%Y-%m-%d}"
