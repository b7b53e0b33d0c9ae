"""The public shop pages on the storefront (/shop/<slug>/)."""

from django.urls import path

from sellers.views import shop

app_name = "shops"

urlpatterns = [
    path("<slug:slug>/", shop.shop_detail, name="detail"),
]
