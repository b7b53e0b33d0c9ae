"""Sellers' URL group, a `(patterns, namespace)` pair that marketplace/urls.py mounts at /seller/.

seller_center holds the application (views/application.py) and the Seller Center pages the sellers
app owns (views/seller_center.py). Other apps own their Seller Center pages in their own groups:
catalog's seller_products and seller_bulk, orders' seller_orders, returns' seller_returns.
"""

from django.urls import path

from sellers.models import ShopAddress
from sellers.views import application, finance, seller_center

seller_center_patterns = (
    [
        # The application: a person who is not a seller yet, or a shop waiting for review.
        path("apply/", application.apply, name="apply"),
        path("application/", application.application, name="application"),
        path("application/submit/", application.application_submit, name="application_submit"),
        path("documents/upload/", application.kyc_document_upload, name="kyc_document_upload"),
        path(
            "documents/<int:document_id>/",
            application.kyc_document_download,
            name="kyc_document_download",
        ),
        path(
            "documents/<int:document_id>/remove/",
            application.kyc_document_remove,
            name="kyc_document_remove",
        ),
        # The Seller Center.
        path("", seller_center.dashboard, name="dashboard"),
        path("finance/", finance.overview, name="finance"),
        path("finance/transactions/", finance.transactions, name="finance_transactions"),
        path("finance/transactions.csv", finance.transactions_csv, name="finance_transactions_csv"),
        path("finance/statements/", finance.statements, name="finance_statements"),
        path("finance/statements.csv", finance.statements_csv, name="finance_statements_csv"),
        path("finance/payouts/", finance.payouts, name="finance_payouts"),
        path("affiliates/", seller_center.affiliates, name="affiliates"),
        path("messages/", seller_center.seller_messages, name="messages"),
        path("settings/", seller_center.shop_settings, name="settings"),
        path(
            "settings/addresses/ship-from/",
            seller_center.address_edit,
            {"kind": ShopAddress.Kind.SHIP_FROM.value},
            name="address_ship_from",
        ),
        path(
            "settings/addresses/return/",
            seller_center.address_edit,
            {"kind": ShopAddress.Kind.RETURN.value},
            name="address_return",
        ),
        path("settings/shipping/", seller_center.shipping, name="shipping"),
        path("settings/payouts/", seller_center.payouts, name="payouts"),
        path("settings/payouts/connect/", seller_center.payout_connect, name="payout_connect"),
        path("settings/payouts/return/", seller_center.payout_return, name="payout_return"),
        path("qualifications/", seller_center.qualifications, name="qualifications"),
        path(
            "qualifications/<int:qualification_id>/document/",
            seller_center.qualification_document,
            name="qualification_document",
        ),
        path("staff/", seller_center.staff, name="staff"),
        path("staff/invite/", seller_center.staff_invite, name="staff_invite"),
        path(
            "staff/invitations/<int:invitation_id>/revoke/",
            seller_center.staff_invitation_revoke,
            name="staff_invitation_revoke",
        ),
        path(
            "staff/members/<int:member_id>/role/",
            seller_center.staff_member_role,
            name="staff_member_role",
        ),
        path(
            "staff/members/<int:member_id>/remove/",
            seller_center.staff_member_remove,
            name="staff_member_remove",
        ),
        path("invitations/<str:token>/", seller_center.invitation_accept, name="invitation_accept"),
        path("policies/", seller_center.policies, name="policies"),
        path("policies/accept/", seller_center.policies_accept, name="policies_accept"),
    ],
    "seller_center",
)
