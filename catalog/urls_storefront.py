"""Storefront browsing: categories, search, product pages. Included at "/" after the home page."""

from django.urls import path

from catalog.views import storefront

app_name = "catalog"

urlpatterns = [
    path("c/<slug:slug>/", storefront.category, name="category"),
    path("search/", storefront.search, name="search"),
    path("p/<int:product_id>/", storefront.product_without_slug, name="product_short"),
    path("p/<int:product_id>/<str:slug>/", storefront.product, name="product"),
]
