"""The catalog: brands, products with their SKUs and images, listing review (revisions, decisions,
an audit of every status change), intellectual-property complaints, category attributes and bulk
uploads.

Categories are `policies.Category` (the tree lives in policies so sellers and screening can use it).
Search indexes that only PostgreSQL has (full text, trigram) are added by a vendor-conditional
migration, so the embedded SQLite default keeps working.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from marketplace.state import StateMachine, StatusEvent
from marketplace.uploads import private_storage
from policies.models import Category
from sellers.models import Seller


class Brand(models.Model):
    name = models.CharField(max_length=120)
    # policies.screening.normalize_brand(name): the key brand authorizations are matched on.
    normalized_name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_REVIEW = "pending_review", "Pending review"
    LIVE = "live", "Live"
    REJECTED = "rejected", "Rejected"
    SELLER_DEACTIVATED = "seller_deactivated", "Deactivated by you"
    PLATFORM_DEACTIVATED = "platform_deactivated", "Deactivated by the platform"
    DELETED = "deleted", "Deleted"


# The product state machine (PRODUCT_MACHINE below; docs/architecture.md, "State machines").
# catalog.services.products.product_transition is the only code that changes a product's status,
# through marketplace.state.transition, which refuses anything not listed here.
PRODUCT_TRANSITIONS: dict[str, frozenset[str]] = {
    ProductStatus.DRAFT: frozenset({ProductStatus.PENDING_REVIEW, ProductStatus.DELETED}),
    ProductStatus.PENDING_REVIEW: frozenset(
        {ProductStatus.LIVE, ProductStatus.REJECTED, ProductStatus.DRAFT, ProductStatus.DELETED}
    ),
    ProductStatus.LIVE: frozenset(
        {
            ProductStatus.SELLER_DEACTIVATED,
            ProductStatus.PLATFORM_DEACTIVATED,
            ProductStatus.DELETED,
        }
    ),
    ProductStatus.REJECTED: frozenset({ProductStatus.PENDING_REVIEW, ProductStatus.DELETED}),
    # The platform can take down a product the seller paused, so pausing cannot dodge a takedown.
    ProductStatus.SELLER_DEACTIVATED: frozenset(
        {ProductStatus.LIVE, ProductStatus.PLATFORM_DEACTIVATED, ProductStatus.DELETED}
    ),
    # Back to live only when staff reverse the decision (an upheld appeal).
    ProductStatus.PLATFORM_DEACTIVATED: frozenset({ProductStatus.LIVE, ProductStatus.DELETED}),
    # Deleted is soft: the seller may restore a deleted product as a draft.
    ProductStatus.DELETED: frozenset({ProductStatus.DRAFT}),
}


class Product(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    status = models.CharField(
        max_length=30, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Markdown; raw HTML is stripped.")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    attributes = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, default="USD")

    # Kept in step with the SKUs by catalog.services (one place), so listing pages filter and sort
    # on the product row alone instead of joining and aggregating SKUs per request.
    price_min_minor = models.PositiveIntegerField(default=0)
    price_max_minor = models.PositiveIntegerField(default=0)
    in_stock = models.BooleanField(default=False)
    # Average rating times 100 (4.25 stars = 425) and the number of ratings; reviews arrive with
    # orders.
    rating_x100 = models.PositiveSmallIntegerField(default=0)
    rating_count = models.PositiveIntegerField(default=0)

    # Title, brand, category path and description in one lower-case text, kept by the services:
    # PostgreSQL indexes it for full-text and trigram search (migration 0002); SQLite scans it.
    search_text = models.TextField(blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "category", "-published_at"], name="product_browse"),
            models.Index(fields=["seller", "status", "-created_at"], name="product_seller_list"),
            models.Index(fields=["status", "price_min_minor"], name="product_price"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProductStatus.values), name="product_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(price_max_minor__gte=F("price_min_minor")), name="product_price_range"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_live(self) -> bool:
        return self.status == ProductStatus.LIVE

    def can_transition_to(self, status: str) -> bool:
        return PRODUCT_MACHINE.allows(self.status, status)


# The longest option name or value of a variant ("Colour", "Sand"), in characters: the one limit
# the product form and the CSV importer apply (option_values is JSON, so no column enforces it).
MAX_OPTION_LENGTH = 60


class SKU(models.Model):
    """One sellable variant: a combination of option values with its own price and stock."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="skus")
    seller_sku = models.CharField(max_length=64, help_text="Your own code for this variant.")
    # e.g. {"Colour": "Red", "Size": "M"}; {} for a product without options.
    option_values = models.JSONField(default=dict, blank=True)
    price_minor = models.PositiveIntegerField()
    compare_at_price_minor = models.PositiveIntegerField(null=True, blank=True)
    stock_on_hand = models.IntegerField(default=0)
    weight_grams = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SKU"
        constraints = [
            # Stock never goes negative: the last line of defence against overselling.
            models.CheckConstraint(
                condition=Q(stock_on_hand__gte=0), name="sku_stock_not_negative"
            ),
            models.CheckConstraint(condition=Q(price_minor__gte=1), name="sku_price_positive"),
            models.CheckConstraint(
                condition=Q(compare_at_price_minor__isnull=True)
                | Q(compare_at_price_minor__gt=F("price_minor")),
                name="sku_compare_at_above_price",
            ),
            models.UniqueConstraint(
                fields=["product", "seller_sku"], name="sku_code_unique_in_product"
            ),
        ]

    def __str__(self):
        return self.seller_sku

    @property
    def option_label(self) -> str:
        return " / ".join(str(value) for value in self.option_values.values()) or "Default"


class ProductImage(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(
        upload_to="products/%Y/%m/", width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(upload_to="products/thumbs/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return f"Image {self.position} of {self.product_id}"


class ProductRevision(models.Model):
    """A proposed edit of a live product, reviewed while the live version stays on sale.

    `snapshot` holds the edited content (title, description, category_id, brand_id, attributes);
    approving it copies the snapshot onto the product.
    """

    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", "Pending review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a newer edit"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="revisions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_REVIEW)
    snapshot = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one edit under review per product: a newer edit supersedes the older one.
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(status="pending_review"),
                name="one_pending_revision_per_product",
            ),
        ]

    def __str__(self):
        return f"Revision {self.pk} of {self.product_id} ({self.status})"


class ListingDecision(models.Model):
    """Every review outcome: by which rule or which person, when, and the reasons shown."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        MANUAL_REVIEW = "manual_review", "Sent to manual review"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="decisions")
    revision = models.ForeignKey(
        ProductRevision, null=True, blank=True, on_delete=models.CASCADE, related_name="decisions"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rule = models.CharField(
        max_length=80, blank=True, help_text="The automatic rule, when no person decided."
    )
    # [{"code": ..., "message": ..., "suggestion": ..., "field": ...}]
    reasons = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_outcome_display()} for {self.product_id}"


class ProductStatusEvent(StatusEvent):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="status_events")
    from_status = models.CharField(max_length=30, choices=ProductStatus.choices)
    to_status = models.CharField(max_length=30, choices=ProductStatus.choices)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.product_id}: {self.from_status} -> {self.to_status}"


PRODUCT_MACHINE = StateMachine(
    model=Product,
    transitions=PRODUCT_TRANSITIONS,
    audit=ProductStatusEvent,
    illegal_message="A product that is {from_label} cannot become {to_label}.",
)

# An edit of a live product is decided once, or retired by a newer edit (catalog.services.listing).
PRODUCT_REVISION_MACHINE = StateMachine(
    model=ProductRevision,
    transitions={
        ProductRevision.Status.PENDING_REVIEW: frozenset(
            {
                ProductRevision.Status.APPROVED,
                ProductRevision.Status.REJECTED,
                ProductRevision.Status.SUPERSEDED,
            }
        ),
        ProductRevision.Status.APPROVED: frozenset(),
        ProductRevision.Status.REJECTED: frozenset(),
        ProductRevision.Status.SUPERSEDED: frozenset(),
    },
    illegal_message="This edit is {from_label}; only edits pending review can be decided.",
)


class CategoryAttribute(models.Model):
    """A field a product in this category (or below it) fills in, e.g. Material for clothing."""

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        CHOICE = "choice", "One of a list"
        NUMBER = "number", "Number"

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attributes")
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=80)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(default=list, blank=True, help_text='For "one of a list".')
    is_required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["category", "slug"], name="category_attribute_unique"),
        ]

    def __str__(self):
        return f"{self.category}: {self.name}"


class IPComplaint(models.Model):
    """A rights owner's notice against a live product, and the seller's one appeal."""

    class RightType(models.TextChoices):
        TRADEMARK = "trademark", "Trademark"
        COPYRIGHT = "copyright", "Copyright"
        PATENT = "patent", "Patent"

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        UPHELD = "upheld", "Upheld: product taken down"
        DISMISSED = "dismissed", "Dismissed"

    class AppealStatus(models.TextChoices):
        NONE = "none", "No appeal"
        SUBMITTED = "submitted", "Appeal submitted"
        GRANTED = "granted", "Appeal granted: product restored"
        DENIED = "denied", "Appeal denied"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="ip_complaints")
    complainant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ip_complaints"
    )
    right_type = models.CharField(max_length=20, choices=RightType.choices)
    rights_owner = models.CharField(max_length=200)
    registration_number = models.CharField(max_length=100, blank=True)
    description = models.TextField()
    proof = models.FileField(storage=private_storage, max_length=200)
    proof_name = models.CharField(max_length=255)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    appeal_status = models.CharField(
        max_length=20, choices=AppealStatus.choices, default=AppealStatus.NONE
    )
    appeal_text = models.TextField(blank=True)
    appeal_evidence = models.FileField(storage=private_storage, max_length=200, blank=True)
    appeal_evidence_name = models.CharField(max_length=255, blank=True)
    appeal_submitted_at = models.DateTimeField(null=True, blank=True)
    appeal_note = models.TextField(blank=True)
    appeal_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    appeal_decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "IP complaint"

    def __str__(self):
        return f"{self.get_right_type_display()} complaint on {self.product_id}"

    @property
    def reference(self) -> str:
        """What people quote in emails and replies (IP-000042)."""
        return f"IP-{self.pk:06d}"


# Staff decide a complaint once; the seller may appeal an upheld one once, and staff decide the
# appeal once (catalog.services.ip_complaints).
IP_COMPLAINT_MACHINE = StateMachine(
    model=IPComplaint,
    transitions={
        IPComplaint.Status.SUBMITTED: frozenset(
            {IPComplaint.Status.UPHELD, IPComplaint.Status.DISMISSED}
        ),
        IPComplaint.Status.UPHELD: frozenset(),
        IPComplaint.Status.DISMISSED: frozenset(),
    },
    illegal_message="This complaint was already decided ({from_label}).",
)
IP_APPEAL_MACHINE = StateMachine(
    model=IPComplaint,
    field="appeal_status",
    transitions={
        IPComplaint.AppealStatus.NONE: frozenset({IPComplaint.AppealStatus.SUBMITTED}),
        IPComplaint.AppealStatus.SUBMITTED: frozenset(
            {IPComplaint.AppealStatus.GRANTED, IPComplaint.AppealStatus.DENIED}
        ),
        IPComplaint.AppealStatus.GRANTED: frozenset(),
        IPComplaint.AppealStatus.DENIED: frozenset(),
    },
    illegal_message="An appeal that is {from_label} cannot become {to_label}.",
)


class BulkUpload(models.Model):
    """A CSV of products from a seller, validated row by row by a Celery job."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="bulk_uploads")
    file = models.FileField(storage=private_storage, max_length=200)
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    # [{"row": 7, "errors": ["Price: enter an amount such as 12.50"]}]
    rejected_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.original_name} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0 if self.status != self.Status.DONE else 100
        return min(100, round(100 * self.processed_rows / self.total_rows))


# A queued upload is started once by the job, then finishes done or failed
# (catalog.services.bulk_upload).
BULK_UPLOAD_MACHINE = StateMachine(
    model=BulkUpload,
    transitions={
        BulkUpload.Status.QUEUED: frozenset({BulkUpload.Status.RUNNING}),
        BulkUpload.Status.RUNNING: frozenset({BulkUpload.Status.DONE, BulkUpload.Status.FAILED}),
        BulkUpload.Status.DONE: frozenset(),
        BulkUpload.Status.FAILED: frozenset(),
    },
)
