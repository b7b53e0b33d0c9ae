"""Notifications in Django admin: read-only; rows are written by `notify` and its job."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from marketplace.notifications.models import Notification
from marketplace.notifications.services import notifications_send_again


class SentFilter(admin.SimpleListFilter):
    title = "sent"
    parameter_name = "sent"

    def lookups(self, request, model_admin):
        return [("yes", "Sent"), ("no", "Not sent")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(sent_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(sent_at__isnull=True)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "recipient_email", "about", "sent_at", "attempts"]
    list_filter = [SentFilter, "kind"]
    search_fields = ["recipient_email", "kind", "about", "key"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    # secret_context is deliberately absent: token links are never shown.
    fields = [
        "key",
        "kind",
        "recipient_email",
        "recipient",
        "about",
        "subject_template",
        "body_template",
        "formatted_context",
        "created_at",
        "sent_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields

    @admin.display(description="Context")
    def formatted_context(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.context, indent=2, sort_keys=True))

    @admin.action(description="Send the selected unsent notifications again")
    def send_again(self, request, queryset):
        count = notifications_send_again(
            notification_ids=list(queryset.values_list("pk", flat=True))
        )
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} enqueued.")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
