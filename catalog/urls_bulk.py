"""Bulk CSV upload pages in the Seller Center (/seller/products/bulk/)."""

from django.urls import path

from catalog.views import bulk

app_name = "seller_bulk"

urlpatterns = [
    path("", bulk.upload_list, name="list"),
    path("template.csv", bulk.template, name="template"),
    path("upload/", bulk.upload, name="upload"),
    path("<int:bulk_upload_id>/", bulk.detail, name="detail"),
    path("<int:bulk_upload_id>/report.csv", bulk.report, name="report"),
]
