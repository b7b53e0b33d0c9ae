from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """The payment gateway protocol, the local test-mode gateway and (later) Stripe."""

    name = "marketplace.payments"
    label = "payments"
    verbose_name = "Payments"
