from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders, shipments, cancellations, returns, refunds, messages, reviews."""

    name = "orders"
