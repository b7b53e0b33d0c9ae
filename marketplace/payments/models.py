from django.db import models

from marketplace.state import StateMachine


class LocalConnectedAccount(models.Model):
    """A seller's connected account at the local test-mode gateway (what Stripe keeps for us in
    production). Onboarding is a page of our own where the seller enters test bank details."""

    external_id = models.CharField(max_length=40, unique=True)
    email = models.EmailField()
    country = models.CharField(max_length=2)
    details_submitted = models.BooleanField(default=False)
    bank_account_holder = models.CharField(max_length=120, blank=True)
    bank_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.external_id


# --- Local gateway: money movement -------------------------------------------------------------
# What the provider would keep for us in production. Every row carries the caller's idempotency
# key (unique), so a repeated call finds the first row instead of moving money twice.


class LocalPayment(models.Model):
    """One charge of a shopper's card at the local gateway (a PaymentIntent and its charge)."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    external_id = models.CharField(max_length=40, unique=True)
    charge_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=200, blank=True)
    # Never the full number, even a test one: what a receipt would show.
    card_last4 = models.CharField(max_length=4, blank=True)
    transfer_group = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="local_payment_amount_positive"
            ),
        ]

    def __str__(self):
        return self.external_id


class LocalTransfer(models.Model):
    """A seller's share moved from the platform to its local connected account."""

    external_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    destination = models.ForeignKey(
        LocalConnectedAccount, on_delete=models.PROTECT, related_name="transfers"
    )
    source_payment = models.ForeignKey(
        LocalPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    transfer_group = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="local_transfer_amount_positive"
            ),
        ]

    def __str__(self):
        return self.external_id


class LocalRefund(models.Model):
    external_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    payment = models.ForeignKey(LocalPayment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    status = models.CharField(max_length=20, default="succeeded")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="local_refund_amount_positive"
            ),
        ]

    def __str__(self):
        return self.external_id


class LocalTransferReversal(models.Model):
    external_id = models.CharField(max_length=40, unique=True)
    idempotency_key = models.CharField(max_length=255, unique=True)
    transfer = models.ForeignKey(LocalTransfer, on_delete=models.PROTECT, related_name="reversals")
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0),
                name="local_transfer_reversal_amount_positive",
            ),
        ]

    def __str__(self):
        return self.external_id


# --- Stripe webhooks ---------------------------------------------------------------------------


class StripeWebhookEvent(models.Model):
    """A verified event from Stripe, stored before it is processed (as dj-stripe does): the
    unique `event_id` absorbs repeated deliveries, and a failed event keeps its payload and error
    for the retry. Written only by marketplace.payments.webhook_services."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    # The connected account the event is about ("" for the platform's own events).
    account = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    # When Stripe created the event: the order of events, which delivery order is not.
    created = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # What processing did when it did nothing ("no handler", "stale: ...").
    note = models.CharField(max_length=255, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


# Processing marks an event processed, or failed (once more) when a handler raised; a failed event
# is retried (marketplace.payments.webhook_services).
STRIPE_WEBHOOK_EVENT_MACHINE = StateMachine(
    model=StripeWebhookEvent,
    transitions={
        StripeWebhookEvent.Status.RECEIVED: frozenset(
            {StripeWebhookEvent.Status.PROCESSED, StripeWebhookEvent.Status.FAILED}
        ),
        StripeWebhookEvent.Status.FAILED: frozenset(
            {StripeWebhookEvent.Status.PROCESSED, StripeWebhookEvent.Status.FAILED}
        ),
        StripeWebhookEvent.Status.PROCESSED: frozenset(),
    },
)
