"""Returns' URL groups, each a `(patterns, namespace)` pair that marketplace/urls.py includes.

returns is the shopper's (at /returns/: the request form, the request pages and their actions);
seller_returns is the Seller Center's Returns section (at /seller/returns/).
"""

from django.urls import path

from returns.views import seller_center, storefront

return_patterns = (
    [
        path("", storefront.request_list, name="list"),
        path("new/<int:order_id>/", storefront.request_new, name="new"),
        path("<int:request_id>/", storefront.request_detail, name="detail"),
        path("<int:request_id>/withdraw/", storefront.request_withdraw, name="withdraw"),
        path("<int:request_id>/accept-offer/", storefront.offer_accept, name="accept_offer"),
        path("<int:request_id>/decline-offer/", storefront.offer_decline, name="decline_offer"),
        path("<int:request_id>/ship-back/", storefront.ship_back, name="ship_back"),
        path("<int:request_id>/escalate/", storefront.escalate, name="escalate"),
        path("<int:request_id>/statement/", storefront.statement, name="statement"),
        path(
            "<int:request_id>/evidence/<int:evidence_id>/",
            storefront.evidence_file,
            name="evidence",
        ),
    ],
    "returns",
)

seller_return_patterns = (
    [
        path("", seller_center.request_list, name="list"),
        path("<int:request_id>/", seller_center.request_detail, name="detail"),
        path("<int:request_id>/approve/", seller_center.approve, name="approve"),
        path("<int:request_id>/reject/", seller_center.reject, name="reject"),
        path("<int:request_id>/offer/", seller_center.offer, name="offer"),
        path(
            "<int:request_id>/confirm-receipt/",
            seller_center.confirm_receipt,
            name="confirm_receipt",
        ),
        path(
            "<int:request_id>/report-problem/", seller_center.report_problem, name="report_problem"
        ),
        path("<int:request_id>/escalate/", seller_center.escalate, name="escalate"),
        path("<int:request_id>/statement/", seller_center.statement, name="statement"),
        path(
            "<int:request_id>/evidence/<int:evidence_id>/",
            seller_center.evidence_file,
            name="evidence",
        ),
    ],
    "seller_returns",
)
