from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Cart, checkout, orders, shipments, tracking, cancellations, refunds."""

    name = "orders"

    def ready(self):
        # accounts sits below orders: it calls this after login instead of importing orders.
        from marketplace.accounts.hooks import after_login_register
        from orders.services.cart import cart_merge_after_login

        after_login_register(cart_merge_after_login)
        # Registers the payment_intent.* webhook handlers.
        from orders import webhooks  # noqa: F401

        # sellers sits below orders: its Finance page asks orders when pending money settles.
        from orders.selectors import settlement_release_dates
        from sellers.finance import pending_release_dates_register

        pending_release_dates_register(settlement_release_dates)
