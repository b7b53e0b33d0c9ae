from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    """After-sales: return and refund requests, return parcels, disputes and their arbitration."""

    name = "returns"

    def ready(self):
        # orders sits below returns: it calls these instead of importing returns.
        from orders.services.deadlines import after_sales_condition_register
        from orders.services.tracking import return_parcel_listener_register
        from returns.services.deadlines import open_return_condition
        from returns.services.shipping import return_parcel_moved

        after_sales_condition_register(open_return_condition)
        return_parcel_listener_register(return_parcel_moved)
