"""Marketplace policies: versioned documents, the category tree with its policy status, listing
keyword rules, and the thresholds that turn violation points into consequences.

The category tree lives here rather than in catalog because sellers (main category,
qualifications) and the screening rules need it, and both sit below catalog in the dependency order.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class PolicyDocument(models.Model):
    class Kind(models.TextChoices):
        INTELLECTUAL_PROPERTY = "intellectual_property", "Intellectual property"
        PROHIBITED_RESTRICTED = "prohibited_restricted", "Prohibited and restricted products"
        PRODUCT_LISTING = "product_listing", "Product listing"
        ORDER_SHIPPING = "order_shipping", "Order shipping"
        CANCELLATION = "cancellation", "Cancellation"
        RETURNS_REFUNDS = "returns_refunds", "Returns and refunds"
        AFFILIATE_PROGRAM = "affiliate_program", "Affiliate program"

    kind = models.CharField(max_length=40, choices=Kind.choices, unique=True)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    requires_seller_acceptance = models.BooleanField(
        default=True, help_text="Sellers must accept each version before they can sell."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title


class PolicyVersion(models.Model):
    """One text of a policy, in force from `effective_at` until the next version's date.

    A version that has taken effect is never edited: a change is a new version, so every
    acceptance points at the exact text the seller agreed to.
    """

    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body_markdown = models.TextField(help_text="Markdown. Raw HTML is stripped when shown.")
    change_summary = models.CharField(max_length=300, blank=True)
    effective_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="policy_version_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="policy_version_number_positive"
            ),
        ]

    def __str__(self):
        return f"{self.document.title} v{self.number}"

    @property
    def has_taken_effect(self) -> bool:
        return self.effective_at <= timezone.now()


class PolicyStatus(models.TextChoices):
    ALLOWED = "allowed", "Allowed"
    RESTRICTED = "restricted", "Restricted (needs an approved qualification)"
    PROHIBITED = "prohibited", "Prohibited"


class Category(models.Model):
    """A node of the product category tree, any depth. Its policy status applies to its subtree:
    the strictest status on the path from the root wins."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    policy_status = models.CharField(
        max_length=20, choices=PolicyStatus.choices, default=PolicyStatus.ALLOWED
    )
    policy_reason = models.CharField(
        max_length=300, blank=True, help_text="Shown to sellers when the status stops a listing."
    )
    qualification_hint = models.CharField(
        max_length=300,
        blank=True,
        help_text="For restricted categories: which document qualifies a seller.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="category_not_own_parent"
            )
        ]

    def __str__(self):
        return self.name


class KeywordRule(models.Model):
    class Action(models.TextChoices):
        BLOCK = "block", "Block the listing"
        REVIEW = "review", "Send to manual review"

    phrase = models.CharField(
        max_length=120,
        unique=True,
        help_text="Matched as whole words, ignoring letter case, in the title and description.",
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=300, help_text="Shown to the seller.")
    suggestion = models.CharField(max_length=300, blank=True, help_text="How to fix the listing.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["phrase"]

    def __str__(self):
        return f"{self.phrase} ({self.get_action_display()})"


class EnforcementSettings(models.Model):
    """The one row of violation thresholds, edited by platform staff in admin."""

    warn_points = models.PositiveIntegerField(default=12)
    restrict_listing_points = models.PositiveIntegerField(default=24)
    suspend_points = models.PositiveIntegerField(default=48)
    points_expire_after_days = models.PositiveIntegerField(default=90)

    class Meta:
        verbose_name = verbose_name_plural = "enforcement settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(warn_points__lte=models.F("restrict_listing_points"))
                & Q(restrict_listing_points__lte=models.F("suspend_points")),
                name="enforcement_thresholds_ascend",
            ),
            models.CheckConstraint(
                condition=Q(points_expire_after_days__gte=1), name="enforcement_expiry_positive"
            ),
        ]

    def __str__(self):
        return "Enforcement settings"

    @classmethod
    def current(cls) -> "EnforcementSettings":
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row
