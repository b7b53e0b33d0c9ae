from django.contrib import admin

from orders.models import (
    BuyerAddress,
    CategoryCommission,
    Checkout,
    Order,
    OrderLine,
    OrderStatusEvent,
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
