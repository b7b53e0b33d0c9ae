"""Orders' URL groups, each a `(patterns, namespace)` pair that marketplace/urls.py includes.

cart, checkout and orders are the shopper's (at /cart/, /checkout/, /orders/); seller_orders is
the Seller Center's Orders section (at /seller/orders/).
"""

from django.urls import path

from orders.views.seller_center import cancellations as seller_cancellations
from orders.views.seller_center import fulfilment as seller_fulfilment
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
        path(
            "<int:order_id>/confirm-receipt/",
            buyer_orders.order_confirm_receipt_view,
            name="confirm_receipt",
        ),
        path("<int:order_id>/cancel/", buyer_orders.order_cancel_view, name="cancel"),
        path(
            "<int:order_id>/cancellation-request/",
            buyer_orders.cancellation_request_view,
            name="cancellation_request",
        ),
        path(
            "<int:order_id>/cancellations/<int:cancellation_id>/withdraw/",
            buyer_orders.cancellation_withdraw_view,
            name="cancellation_withdraw",
        ),
    ],
    "orders",
)

seller_order_patterns = (
    [
        path("", seller_orders.order_list, name="list"),
        path("<int:order_id>/", seller_orders.order_detail, name="detail"),
        path("<int:order_id>/ship/", seller_fulfilment.ship, name="ship"),
        path("<int:order_id>/packing-slip/", seller_fulfilment.packing_slip, name="packing_slip"),
        path("bulk-ship/", seller_fulfilment.bulk_ship_view, name="bulk_ship"),
        path("bulk-ship/report/", seller_fulfilment.bulk_ship_report, name="bulk_ship_report"),
        path("<int:order_id>/cancel/", seller_cancellations.cancel, name="cancel"),
        path(
            "<int:order_id>/cancellations/<int:cancellation_id>/approve/",
            seller_cancellations.cancellation_approve_view,
            name="cancellation_approve",
        ),
        path(
            "<int:order_id>/cancellations/<int:cancellation_id>/reject/",
            seller_cancellations.cancellation_reject_view,
            name="cancellation_reject",
        ),
    ],
    "seller_orders",
)
