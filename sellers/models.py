"""Sellers: the application and its review, the shop's set-up, its people, its documents, its
policy acceptances, qualifications and violations.

A `Seller` row is both the application (draft to approved) and, once approved, the shop.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.countries import COUNTRY_CHOICES
from marketplace.state import StateMachine, StatusEvent
from marketplace.uploads import private_storage
from policies.models import Category, PolicyVersion


class SellerStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    NEEDS_INFO = "needs_info", "More information needed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"


# The seller state machine (SELLER_MACHINE below; docs/architecture.md, "State machines"). Every
# status change goes through sellers.services.transitions.seller_transition, which moves the row
# with marketplace.state.transition: anything not listed here is refused.
SELLER_TRANSITIONS: dict[str, frozenset[str]] = {
    SellerStatus.DRAFT: frozenset({SellerStatus.SUBMITTED, SellerStatus.CLOSED}),
    SellerStatus.SUBMITTED: frozenset(
        {SellerStatus.APPROVED, SellerStatus.REJECTED, SellerStatus.NEEDS_INFO}
    ),
    SellerStatus.NEEDS_INFO: frozenset({SellerStatus.SUBMITTED, SellerStatus.CLOSED}),
    SellerStatus.APPROVED: frozenset({SellerStatus.SUSPENDED, SellerStatus.CLOSED}),
    SellerStatus.SUSPENDED: frozenset({SellerStatus.APPROVED, SellerStatus.CLOSED}),
    SellerStatus.REJECTED: frozenset({SellerStatus.CLOSED}),
    SellerStatus.CLOSED: frozenset(),
}

EDITABLE_APPLICATION_STATUSES = frozenset({SellerStatus.DRAFT, SellerStatus.NEEDS_INFO})


def default_return_window_days() -> int:
    """New shops start with the marketplace's default return window (RETURN_WINDOW_DAYS)."""
    return settings.RETURN_WINDOW_DAYS


class Seller(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        BUSINESS = "business", "Business"

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_seller"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(
        max_length=20, choices=SellerStatus.choices, default=SellerStatus.DRAFT, db_index=True
    )
    shop_name = models.CharField(max_length=80)
    slug = models.SlugField(
        max_length=60, unique=True, help_text="The shop's address: /shop/<slug>/"
    )
    legal_name = models.CharField(
        max_length=200, help_text="Your full legal name, or the registered business name."
    )
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=30)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    tax_id = models.CharField(
        max_length=40, blank=True, help_text="Required for businesses (VAT, EIN, company number)."
    )
    main_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(blank=True, help_text="Shown on your public shop page.")

    # Hours during which buyers can expect replies to messages.
    message_hours_start = models.TimeField(null=True, blank=True)
    message_hours_end = models.TimeField(null=True, blank=True)
    # How long after delivery a buyer may ask for a return or refund (the returns app); shown on
    # the shop's product pages and on its orders.
    return_window_days = models.PositiveSmallIntegerField(
        default=default_return_window_days,
        validators=[MinValueValidator(7), MaxValueValidator(90)],
    )

    status_message = models.TextField(
        blank=True,
        help_text="The latest reason or request from platform staff, shown to the seller.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shop_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SellerStatus.values), name="seller_status_valid"
            ),
        ]

    def __str__(self):
        return self.shop_name

    @property
    def is_open(self) -> bool:
        """An approved, not suspended shop: its page and (later) its products are public."""
        return self.status == SellerStatus.APPROVED

    @property
    def application_is_editable(self) -> bool:
        return self.status in EDITABLE_APPLICATION_STATUSES

    def can_transition_to(self, status: str) -> bool:
        return SELLER_MACHINE.allows(self.status, status)


class SellerStatusEvent(StatusEvent):
    """The audit trail of a seller's status: who changed it, from what, to what, and why."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="status_events")
    from_status = models.CharField(max_length=20, choices=SellerStatus.choices)
    to_status = models.CharField(max_length=20, choices=SellerStatus.choices)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.seller}: {self.from_status} -> {self.to_status}"


SELLER_MACHINE = StateMachine(
    model=Seller,
    transitions=SELLER_TRANSITIONS,
    audit=SellerStatusEvent,
    illegal_message="A {from_label} seller cannot be moved to {to_label}.",
)


class KycDocument(models.Model):
    class Kind(models.TextChoices):
        ID_CARD = "id_card", "National ID card"
        PASSPORT = "passport", "Passport"
        DRIVING_LICENCE = "driving_licence", "Driving licence"
        BUSINESS_REGISTRATION = "business_registration", "Business registration certificate"
        PROOF_OF_ADDRESS = "proof_of_address", "Proof of address"
        TAX_CERTIFICATE = "tax_certificate", "Tax registration certificate"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="kyc_documents")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    file = models.FileField(storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.original_name})"


class SellerPolicyAcceptance(models.Model):
    """A seller agreed to one version of one policy: who clicked, when, from where."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="policy_acceptances")
    policy_version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["seller", "policy_version"], name="seller_accepts_a_version_once"
            )
        ]

    def __str__(self):
        return f"{self.seller} accepted {self.policy_version}"


class SellerRole(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    PRODUCT_MANAGER = "product_manager", "Product manager"
    ORDER_MANAGER = "order_manager", "Order manager"
    FINANCE = "finance", "Finance"


class SellerMember(models.Model):
    """A person who works in a seller's Seller Center, with one role. The owner is a member too."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="seller_memberships"
    )
    role = models.CharField(max_length=20, choices=SellerRole.choices)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "user"], name="seller_member_once"),
            models.UniqueConstraint(
                fields=["seller"], condition=Q(role="owner"), name="seller_has_one_owner_member"
            ),
        ]

    def __str__(self):
        return f"{self.user} ({self.get_role_display()}) at {self.seller}"


class SellerInvitation(models.Model):
    """An emailed invitation to join a seller's staff. The token is stored hashed."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=SellerRole.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(role="owner"), name="invitation_not_for_owner"),
        ]

    def __str__(self):
        return f"{self.email} as {self.get_role_display()} at {self.seller}"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ShopAddress(models.Model):
    class Kind(models.TextChoices):
        SHIP_FROM = "ship_from", "Ship-from (warehouse)"
        RETURN = "return", "Returns"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    contact_name = models.CharField(max_length=120)
    phone = models.CharField(max_length=30)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "kind"], name="one_address_of_each_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.line1}, {self.city}"


class ShippingTemplate(models.Model):
    """What the seller charges to ship one order: a flat fee, free above a threshold."""

    seller = models.OneToOneField(
        Seller, on_delete=models.CASCADE, related_name="shipping_template"
    )
    currency = models.CharField(max_length=3, default="USD")
    flat_fee_minor = models.PositiveIntegerField(help_text="In the currency's minor unit (cents).")
    free_shipping_threshold_minor = models.PositiveIntegerField(
        null=True, blank=True, help_text="Orders at or above this subtotal ship free. Empty: never."
    )
    processing_days = models.PositiveSmallIntegerField(
        default=2, help_text="Working days to hand an order to the carrier."
    )

    def __str__(self):
        return f"Shipping for {self.seller}"


class PayoutAccount(models.Model):
    """The seller's connected account at the payment gateway, where payouts go."""

    class Status(models.TextChoices):
        ONBOARDING = "onboarding", "Onboarding not finished"
        ACTIVE = "active", "Active"
        RESTRICTED = "restricted", "Restricted by the gateway"

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="payout_account")
    gateway = models.CharField(max_length=20)
    external_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ONBOARDING)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    requirements_due = models.JSONField(default=list, blank=True)
    bank_last4 = models.CharField(max_length=4, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the gateway produced the newest state copied here (a webhook event's `created`).
    # Events arrive out of order; one older than this is stale and changes nothing.
    gateway_updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.gateway}:{self.external_id}"


# The gateway decides (sellers.services.setup.payout_account_apply_gateway_state copies its state):
# any status may follow any other.
PAYOUT_ACCOUNT_MACHINE = StateMachine(
    model=PayoutAccount,
    transitions={
        status: frozenset(PayoutAccount.Status.values) - {status}
        for status in PayoutAccount.Status.values
    },
)


class Payout(models.Model):
    """Money paid from the platform to a seller's payout account: the settled balance the payout
    job found available (sellers.services.payouts). The ledger moves available -> in transit when
    the row is created (`payout-created:<id>`), in transit -> cash out when the gateway confirms,
    back to available when it fails. The gateway is called with `idempotency_key`, stored with
    the row before the call, so a retried or redelivered job never pays twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Being sent"
        IN_TRANSIT = "in_transit", "In transit"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="payouts")
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    # transfer:payout:<id>, set in the transaction that creates the row, before any gateway call.
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    destination = models.CharField(max_length=100)  # the payout account's external id then
    gateway_transfer_id = models.CharField(max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    failure_reason = models.CharField(max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["seller", "-created_at"], name="payout_seller_history"),
            models.Index(fields=["status", "created_at"], name="payout_queue"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "in_transit", "paid", "failed"]),
                name="payout_status_valid",
            ),
            # One payout on its way per seller at a time: the job's check has the database's
            # backing when two runs meet.
            models.UniqueConstraint(
                fields=["seller"],
                condition=Q(status__in=["pending", "in_transit"]),
                name="payout_one_in_flight_per_seller",
            ),
        ]

    def __str__(self):
        return f"Payout {self.pk} to {self.seller_id} ({self.status})"


PAYOUT_MACHINE = StateMachine(
    model=Payout,
    transitions={
        # Pending: created, money reserved, the gateway not (yet) answered. A failure before the
        # transfer exists (account gone, gateway refusal) fails it straight away.
        Payout.Status.PENDING: frozenset({Payout.Status.IN_TRANSIT, Payout.Status.FAILED}),
        Payout.Status.IN_TRANSIT: frozenset({Payout.Status.PAID, Payout.Status.FAILED}),
        Payout.Status.PAID: frozenset(),
        Payout.Status.FAILED: frozenset(),
    },
)


class Qualification(models.Model):
    """A document that lets a seller list in a restricted category, or list a brand."""

    class Kind(models.TextChoices):
        CATEGORY = "category", "Category qualification"
        BRAND = "brand", "Brand authorization"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    brand_name = models.CharField(max_length=120, blank=True)
    document = models.FileField(storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=50)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rejection_reason = models.TextField(blank=True)
    expires_on = models.DateField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="category") & Q(category__isnull=False) & Q(brand_name=""))
                | (Q(kind="brand") & Q(category__isnull=True) & ~Q(brand_name="")),
                name="qualification_names_its_subject",
            ),
        ]

    def __str__(self):
        subject = self.category if self.kind == self.Kind.CATEGORY else self.brand_name
        return f"{self.get_kind_display()}: {subject} ({self.get_status_display()})"


# Staff decide a pending qualification once (sellers.services.qualifications).
QUALIFICATION_MACHINE = StateMachine(
    model=Qualification,
    transitions={
        Qualification.Status.PENDING: frozenset(
            {Qualification.Status.APPROVED, Qualification.Status.REJECTED}
        ),
        Qualification.Status.APPROVED: frozenset(),
        Qualification.Status.REJECTED: frozenset(),
    },
    illegal_message="This qualification was already {from_label}.",
)


class Violation(models.Model):
    """Points against a seller for breaking a policy; they count for a limited time."""

    class Kind(models.TextChoices):
        PROHIBITED_LISTING = "prohibited_listing", "Prohibited product listed"
        INTELLECTUAL_PROPERTY = "intellectual_property", "Intellectual property infringement"
        LATE_SHIPMENT = "late_shipment", "Late shipment"
        MISLEADING_LISTING = "misleading_listing", "Misleading listing"
        OFF_PLATFORM = "off_platform", "Off-platform transaction"
        OTHER = "other", "Other policy breach"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="violations")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    points = models.PositiveSmallIntegerField()
    reason = models.TextField(help_text="Shown to the seller.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when an automatic rule recorded it.",
    )
    rule = models.CharField(
        max_length=80, blank=True, help_text="The automatic rule that recorded it, if any."
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=1), name="violation_has_points"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("occurred_at")), name="violation_expires_later"
            ),
        ]
        indexes = [models.Index(fields=["seller", "expires_at"])]

    def __str__(self):
        return f"{self.seller}: {self.get_kind_display()} ({self.points} points)"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
