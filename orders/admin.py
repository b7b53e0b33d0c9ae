from django.contrib import admin, messages

from orders.models import (
    BuyerAddress,
    CategoryCommission,
    Checkout,
    Order,
    OrderCancellation,
    OrderLine,
    OrderStatusEvent,
    Refund,
    RefundStatus,
)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in OrderLine._meta.fields]


class OrderStatusEventInline(admin.TabularInline):
    model = OrderStatusEvent
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "actor", "message", "created_at"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Read-only: status changes go through orders.services, never through a form here."""

    list_display = ["id", "seller", "buyer", "status", "total_minor", "currency", "created_at"]
    list_filter = ["status"]
    search_fields = ["id", "buyer__email", "seller__shop_name"]
    list_select_related = ["seller", "buyer"]
    inlines = [OrderLineInline, OrderStatusEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Checkout)
class CheckoutAdmin(admin.ModelAdmin):
    list_display = ["id", "buyer", "status", "total_minor", "currency", "created_at"]
    list_filter = ["status"]
    list_select_related = ["buyer"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Checkout._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CategoryCommission)
class CategoryCommissionAdmin(admin.ModelAdmin):
    list_display = ["category", "rate_bps", "effective_from"]
    list_select_related = ["category"]
    autocomplete_fields = []


@admin.register(BuyerAddress)
class BuyerAddressAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "city", "country", "is_default"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Cancellations and refunds change only through orders.services (the actions below)."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OrderCancellation)
class OrderCancellationAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "order",
        "initiated_by",
        "reason",
        "status",
        "respond_by",
        "decided_at",
        "created_at",
    ]
    list_filter = ["status", "initiated_by", "reason"]
    search_fields = ["order__id", "order__buyer__email", "order__seller__shop_name"]
    list_select_related = ["order"]


@admin.register(Refund)
class RefundAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "order",
        "amount_minor",
        "currency",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "refunded_at",
    ]
    list_filter = ["status"]
    search_fields = ["order__id", "idempotency_key", "gateway_refund_id"]
    list_select_related = ["order"]
    actions = ["retry_failed"]

    @admin.action(description="Retry the selected failed refunds now")
    def retry_failed(self, request, queryset):
        from orders.services.refunds import refunds_retry_selected

        ids = list(queryset.filter(status=RefundStatus.FAILED).values_list("pk", flat=True))
        moved = refunds_retry_selected(refund_ids=ids)
        succeeded = Refund.objects.filter(pk__in=moved, status=RefundStatus.SUCCEEDED).count()
        self.message_user(
            request,
            f"Retried {len(moved)} failed refund(s): {succeeded} succeeded, "
            f"{len(moved) - succeeded} still failing.",
            messages.SUCCESS if succeeded == len(moved) else messages.WARNING,
        )
