"""Payments in Django admin: Stripe webhook events (with a retry for failed ones) and the local
test-mode gateway's records. All read-only: rows here are written by the gateway and the webhook
services, never by hand."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from marketplace.payments.models import (
    LocalConnectedAccount,
    LocalPayment,
    LocalRefund,
    LocalTransfer,
    LocalTransferReversal,
    StripeWebhookEvent,
)
from marketplace.payments.webhook_services import stripe_webhook_events_retry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeWebhookEvent)
class StripeWebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "account", "status", "attempts", "note"]
    list_filter = ["status", "type", "livemode"]
    search_fields = ["event_id", "account"]
    date_hierarchy = "received_at"
    actions = ["retry_failed"]
    fields = [
        "event_id",
        "type",
        "account",
        "livemode",
        "created",
        "received_at",
        "status",
        "attempts",
        "note",
        "last_error",
        "processed_at",
        "formatted_payload",
    ]
    readonly_fields = fields

    @admin.display(description="Payload")
    def formatted_payload(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    @admin.action(description="Retry the selected failed (or stuck) events")
    def retry_failed(self, request, queryset):
        queued = stripe_webhook_events_retry(event_pks=list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - queued
        if queued:
            self.message_user(request, f"Queued {queued} event(s) for another attempt.")
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} event(s) already processed.",
                level=messages.WARNING,
            )


@admin.register(LocalConnectedAccount)
class LocalConnectedAccountAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "email", "country", "details_submitted", "created_at"]
    list_filter = ["details_submitted", "country"]
    search_fields = ["external_id", "email"]


@admin.register(LocalPayment)
class LocalPaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "external_id",
        "amount_minor",
        "currency",
        "status",
        "failure_code",
        "card_last4",
        "transfer_group",
    ]
    list_filter = ["status", "failure_code", "currency"]
    search_fields = ["external_id", "charge_id", "idempotency_key", "transfer_group"]
    date_hierarchy = "created_at"


@admin.register(LocalTransfer)
class LocalTransferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "external_id", "amount_minor", "currency", "destination"]
    list_select_related = ["destination"]
    search_fields = ["external_id", "idempotency_key", "transfer_group"]
    date_hierarchy = "created_at"


@admin.register(LocalRefund)
class LocalRefundAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "external_id", "payment", "amount_minor", "status"]
    list_select_related = ["payment"]
    search_fields = ["external_id", "idempotency_key"]


@admin.register(LocalTransferReversal)
class LocalTransferReversalAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "external_id", "transfer", "amount_minor"]
    list_select_related = ["transfer"]
    search_fields = ["external_id", "idempotency_key"]
