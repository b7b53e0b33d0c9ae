"""Payments' URL group, a `(patterns, namespace)` pair mounted at /payments/."""

from django.urls import path

from marketplace.payments import views

payment_patterns = (
    [
        # The local test-mode gateway's stand-in for a provider's onboarding pages.
        path(
            "local/onboarding/<str:external_id>/",
            views.local_onboarding,
            name="local_onboarding",
        ),
    ],
    "payments",
)
