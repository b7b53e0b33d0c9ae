"""Double-entry ledger (docs/architecture.md, "Money and the ledger").

Sign convention: an entry's amount is positive for a debit and negative for a credit, so the
entries of every transaction sum to zero per currency. Asset accounts (the gateway's cash) carry
positive balances; what the marketplace owes (seller and creator balances, commission) carries
negative raw balances, shown to people with the sign flipped (`LedgerAccount.normal_sign`).

Entries are never updated or deleted: a correction is a new, reversing transaction. The models
refuse it, and on PostgreSQL so does the database (triggers in migration 0002), which also refuses
at commit any transaction whose entries do not balance.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone


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
