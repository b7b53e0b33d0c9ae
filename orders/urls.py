"""Three URL groups, included from marketplace/urls.py at cart/, checkout/ and orders/."""

from django.urls import path

from orders.views import buyer, cart, checkout

cart_patterns = (
    [
        path("", cart.cart_detail, name="detail"),
        path("add/", cart.cart_add_view, name="add"),
        path("lines/<int:sku_id>/", cart.cart_update_view, name="update"),
        path("lines/<int:sku_id>/remove/", cart.cart_remove_view, name="remove"),
    ],
    "cart",
)

checkout_patterns = (
    [
        path("", checkout.checkout_view, name="start"),
        path("<int:checkout_id>/pay/", checkout.checkout_pay, name="pay"),
        path("<int:checkout_id>/done/", checkout.checkout_done, name="done"),
    ],
    "checkout",
)

order_patterns = (
    [
        path("", buyer.order_list, name="list"),
        path("<int:order_id>/", buyer.order_detail, name="detail"),
    ],
    "orders",
)
