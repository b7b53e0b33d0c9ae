"""Intellectual-property complaints (rights owners) and appeals (sellers) (/ip/)."""

from django.urls import path

from catalog.views import ip

app_name = "ip"

urlpatterns = [
    path("report/<int:product_id>/", ip.report, name="report"),
    path("complaints/", ip.my_complaints, name="my_complaints"),
    path("seller/", ip.seller_complaints, name="seller_complaints"),
    path("seller/<int:complaint_id>/appeal/", ip.seller_appeal, name="seller_appeal"),
    path(
        "seller/<int:complaint_id>/evidence/",
        ip.seller_appeal_evidence,
        name="seller_appeal_evidence",
    ),
]
