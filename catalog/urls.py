"""Catalog's URL groups, each a `(patterns, namespace)` pair that marketplace/urls.py includes.

storefront (the home page), catalog (categories, search, products) and shops (a shop's page,
served here because it lists the shop's products) are the shoppers'; ip is the rights owners'
(report a product, follow one's complaints); seller_products, seller_bulk and
seller_ip_complaints are Seller Center pages.
"""

from django.urls import path, re_path

from catalog.views import rights_owner, storefront
from catalog.views.seller_center import bulk, ip_complaints, products

storefront_patterns = (
    [path("", storefront.home, name="home")],
    "storefront",
)

catalog_patterns = (
    [
        path("c/<slug:slug>/", storefront.category, name="category"),
        path("search/", storefront.search, name="search"),
        path("p/<int:product_id>/", storefront.product_without_slug, name="product_short"),
        path("p/<int:product_id>/<str:slug>/", storefront.product, name="product"),
    ],
    "catalog",
)

shop_patterns = (
    [path("<slug:slug>/", storefront.shop_detail, name="detail")],
    "shops",
)

seller_product_patterns = (
    [
        path("", products.product_list, name="list"),
        path("new/", products.product_create_view, name="create"),
        path("<int:pk>/", products.product_detail, name="detail"),
        path("<int:pk>/edit/", products.product_edit, name="edit"),
        re_path(
            r"^(?P<pk>[0-9]+)/(?P<action>submit|deactivate|reactivate|delete|restore|duplicate)/$",
            products.product_action,
            name="action",
        ),
        path("<int:pk>/images/add/", products.image_add, name="image_add"),
        path(
            "<int:pk>/images/<int:image_id>/remove/",
            products.image_remove,
            name="image_remove",
        ),
        path("<int:pk>/images/<int:image_id>/move/", products.image_move, name="image_move"),
        path("<int:pk>/variants/<int:sku_id>/", products.sku_update, name="sku_update"),
    ],
    "seller_products",
)

seller_bulk_patterns = (
    [
        path("", bulk.upload_list, name="list"),
        path("template.csv", bulk.template, name="template"),
        path("upload/", bulk.upload, name="upload"),
        path("<int:bulk_upload_id>/", bulk.detail, name="detail"),
        path("<int:bulk_upload_id>/report.csv", bulk.report, name="report"),
    ],
    "seller_bulk",
)

ip_patterns = (
    [
        path("report/<int:product_id>/", rights_owner.report, name="report"),
        path("complaints/", rights_owner.my_complaints, name="my_complaints"),
    ],
    "ip",
)

seller_ip_complaint_patterns = (
    [
        path("", ip_complaints.seller_complaints, name="list"),
        path("<int:complaint_id>/appeal/", ip_complaints.seller_appeal, name="appeal"),
        path(
            "<int:complaint_id>/evidence/",
            ip_complaints.seller_appeal_evidence,
            name="evidence",
        ),
    ],
    "seller_ip_complaints",
)
