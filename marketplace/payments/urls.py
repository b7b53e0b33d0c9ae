from django.urls import path

from marketplace.payments import views

app_name = "payments"

urlpatterns = [
    path(
        "local/onboarding/<str:external_id>/",
        views.local_onboarding,
        name="local_onboarding",
    ),
]
