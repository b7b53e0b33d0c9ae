"""Double-entry ledger (docs/architecture.md, "Money and the ledger").

Sign convention: an entry's amount is positive for a debit and negative for a credit, so the
entries of every transaction sum to zero per currency. Asset accounts (the gateway's cash) carry
positive balances; what the marketplace owes (seller and creator balances, commission) carries
negative raw balances, shown to people with the sign flipped (`LedgerAccount.normal_sign`).

Entries are never updated or deleted: a correction is a new, reversing transaction. The models
refuse it, and on PostgreSQL so does the database (triggers in migration 0002), which also refuses
at commit any transaction whose entries do not balance.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from marketplace.state import StateMachine, StatusEvent


class LedgerAccount(models.Model):
    class Kind(models.TextChoices):
        ASSET = "asset", "Asset"
        LIABILITY = "liability", "Liability"
        REVENUE = "revenue", "Revenue"

    code = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code

    @property
    def normal_sign(self) -> int:
        """+1 where a debit increases the balance people see, -1 where a credit does."""
        return 1 if self.kind == self.Kind.ASSET else -1


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Ledger rows are never updated; post a reversing transaction.")

    def delete(self):
        raise PermissionError("Ledger rows are never deleted; post a reversing transaction.")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Ledger rows are never updated; post a reversing transaction.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Ledger rows are never deleted; post a reversing transaction.")


class LedgerTransaction(ImmutableModel):
    idempotency_key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40)
    reference = models.CharField(
        max_length=120, blank=True, help_text="What caused it, e.g. seller-order:42 or payout:7."
    )
    description = models.CharField(max_length=300, blank=True)
    posted_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-posted_at", "-id"]
        # What an order still holds in an account is summed over its transactions by reference
        # (the journal's refunds and the settlement job).
        indexes = [models.Index(fields=["reference"], name="ledger_txn_reference")]

    def __str__(self):
        return f"{self.kind} {self.idempotency_key}"


class LedgerEntry(ImmutableModel):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # Copied from the transaction so "balance as of a date" is one indexed scan of one table.
    posted_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_entry_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "posted_at"])]

    def __str__(self):
        return f"{self.account.code} {self.amount_minor:+d} {self.currency}"


# --- Manual adjustments ------------------------------------------------------------------------


class LedgerAdjustment(models.Model):
    """A credit or debit that platform staff make by hand on a seller's balance, with a reason
    (marketplace.ledger.adjustments). Posted as one balanced transaction keyed
    `adjustment:<id>` between the seller's accounts and `platform:adjustments:<currency>`.

    Why `seller_id` is a plain integer and not a foreign key: the ledger sits below `sellers` in
    the dependency order and never imports it, exactly as its account codes name a seller by id
    (`seller:42:available:USD`). The shop's name is copied when the adjustment is made, for
    display; the sellers admin, which may read sellers, resolves and checks the shop.

    Small amounts (below settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR) are created approved and
    posted at once; larger ones wait in pending_approval for a second staff member, never their
    creator (the service refuses it and a CHECK constraint backs it).
    """

    class Direction(models.TextChoices):
        CREDIT = "credit", "Credit (the platform pays the shop)"
        DEBIT = "debit", "Debit (the shop pays the platform)"

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", "Waiting for approval"
        APPROVED = "approved", "Approved"
        POSTED = "posted", "Posted"
        REJECTED = "rejected", "Rejected"

    seller_id = models.PositiveIntegerField(db_index=True)
    shop_name = models.CharField(max_length=80, blank=True)
    direction = models.CharField(max_length=6, choices=Direction.choices)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(
        max_length=300, help_text="Why: shown to the shop with the transaction in its Finance."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING_APPROVAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_ledgeradjustment", "Can approve or reject a manual ledger adjustment"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="ledger_adjustment_amount_positive"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="ledger_adjustment_reason_given"),
            models.CheckConstraint(
                condition=Q(direction__in=["credit", "debit"]),
                name="ledger_adjustment_direction_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending_approval", "approved", "posted", "rejected"]),
                name="ledger_adjustment_status_valid",
            ),
            # Four eyes: whoever approves is not whoever asked.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=models.F("created_by")),
                name="ledger_adjustment_second_approver",
            ),
        ]

    def __str__(self):
        return f"Adjustment {self.pk} ({self.direction}, seller {self.seller_id})"

    @property
    def transaction_key(self) -> str:
        """The idempotency key of its ledger transaction."""
        return f"adjustment:{self.pk}"


class LedgerAdjustmentEvent(StatusEvent):
    adjustment = models.ForeignKey(
        LedgerAdjustment, on_delete=models.CASCADE, related_name="status_events"
    )


LEDGER_ADJUSTMENT_MACHINE = StateMachine(
    model=LedgerAdjustment,
    transitions={
        # Approved is the moment before posting, in the same database transaction.
        LedgerAdjustment.Status.PENDING_APPROVAL: frozenset(
            {LedgerAdjustment.Status.APPROVED, LedgerAdjustment.Status.REJECTED}
        ),
        LedgerAdjustment.Status.APPROVED: frozenset({LedgerAdjustment.Status.POSTED}),
        LedgerAdjustment.Status.POSTED: frozenset(),
        LedgerAdjustment.Status.REJECTED: frozenset(),
    },
    audit=LedgerAdjustmentEvent,
)
