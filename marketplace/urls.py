"""The project's URLs: every app's groups, each a `(patterns, namespace)` pair from its urls.py,
mounted at their prefixes, plus the project-wide endpoints (admin, webhooks, health, API docs)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from affiliates import urls as affiliates_urls
from catalog import urls as catalog_urls
from marketplace import views
from marketplace.accounts import urls as accounts_urls
from marketplace.accounts import views as accounts_views
from marketplace.payments import urls as payments_urls
from marketplace.payments.webhook_views import stripe_webhook
from orders import urls as orders_urls
from orders.carriers.webhook import carrier_webhook
from policies import urls as policies_urls
from returns import urls as returns_urls
from sellers import urls as sellers_urls

urlpatterns = [
    # Storefront (shoppers).
    path("", include(catalog_urls.storefront_patterns)),
    path("", include(catalog_urls.catalog_patterns)),
    path("shop/", include(catalog_urls.shop_patterns)),
    path("policies/", include(policies_urls.policy_patterns)),
    path("cart/", include(orders_urls.cart_patterns)),
    path("checkout/", include(orders_urls.checkout_patterns)),
    path("orders/", include(orders_urls.order_patterns)),
    path("returns/", include(returns_urls.return_patterns)),
    path("accounts/", include(accounts_urls.account_patterns)),
    path("ip/", include(catalog_urls.ip_patterns)),
    # Seller Center: each app mounts its own sections under /seller/.
    path("seller/products/bulk/", include(catalog_urls.seller_bulk_patterns)),
    path("seller/products/", include(catalog_urls.seller_product_patterns)),
    path("seller/ip-complaints/", include(catalog_urls.seller_ip_complaint_patterns)),
    path("seller/orders/", include(orders_urls.seller_order_patterns)),
    path("seller/returns/", include(returns_urls.seller_return_patterns)),
    path("seller/", include(sellers_urls.seller_center_patterns)),
    # Creator Center.
    path("creator/", include(affiliates_urls.creator_center_patterns)),
    path("payments/", include(payments_urls.payment_patterns)),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("webhooks/carriers/<slug:carrier_code>/", carrier_webhook, name="carrier_webhook"),
    # Ahead of admin.site.urls: the admin's sign-in, answering 429 when the login throttle refuses.
    path("admin/login/", accounts_views.admin_login),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.SERVE_MEDIA:
    # Public uploads (product images) from the app itself, so the marketplace needs no other server;
    # a CDN or web server in front can take this over (SERVE_MEDIA=0). Private documents live
    # outside MEDIA_ROOT and are never reachable here.
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
