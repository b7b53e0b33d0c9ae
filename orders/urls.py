"""Orders' URL groups, each a `(patterns, namespace)` pair that marketplace/urls.py includes.

cart, checkout and orders are the shopper's (at /cart/, /checkout/, /orders/); seller_orders is
the Seller Center's Orders section (at /seller/orders/).
"""

from django.urls import path

from orders.views.seller_center import orders as seller_orders
from orders.views.storefront import cart, checkout
from orders.views.storefront import orders as buyer_orders

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
        path("", buyer_orders.order_list, name="list"),
        path("<int:order_id>/", buyer_orders.order_detail, name="detail"),
    ],
    "orders",
)

seller_order_patterns = (
    [
        path("", seller_orders.order_list, name="list"),
        path("<int:order_id>/", seller_orders.order_detail, name="detail"),
    ],
    "seller_orders",
)
