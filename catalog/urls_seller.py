"""Seller Center product pages (/seller/products/)."""

from django.urls import path, re_path

from catalog.views import seller_center as views

app_name = "seller_products"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("new/", views.product_create_view, name="create"),
    path("<int:pk>/", views.product_detail, name="detail"),
    path("<int:pk>/edit/", views.product_edit, name="edit"),
    re_path(
        r"^(?P<pk>[0-9]+)/(?P<action>submit|deactivate|reactivate|delete|restore|duplicate)/$",
        views.product_action,
        name="action",
    ),
    path("<int:pk>/images/add/", views.image_add, name="image_add"),
    path("<int:pk>/images/<int:image_id>/remove/", views.image_remove, name="image_remove"),
    path("<int:pk>/images/<int:image_id>/move/", views.image_move, name="image_move"),
    path("<int:pk>/variants/<int:sku_id>/", views.sku_update, name="sku_update"),
]
