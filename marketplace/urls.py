from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from catalog.views import storefront as catalog_storefront
from marketplace import views
from marketplace.accounts import views as accounts_views
from marketplace.payments.webhook_views import stripe_webhook
from orders import urls as orders_urls

storefront_patterns = (
    [path("", catalog_storefront.home, name="home")],
    "storefront",
)
# The shop page lists the shop's products, so catalog serves it (sellers sits below catalog).
shop_patterns = (
    [path("<slug:slug>/", catalog_storefront.shop_detail, name="detail")],
    "shops",
)

urlpatterns = [
    path("", include(storefront_patterns)),
    path("", include("catalog.urls_storefront")),
    path("accounts/", include("marketplace.accounts.urls")),
    path("seller/products/bulk/", include("catalog.urls_bulk")),
    path("seller/products/", include("catalog.urls_seller")),
    path("seller/", include("sellers.urls")),
    path("ip/", include("catalog.urls_ip")),
    path("shop/", include(shop_patterns)),
    path("policies/", include("policies.urls")),
    path("payments/", include("marketplace.payments.urls")),
    path("webhooks/stripe/", stripe_webhook, name="stripe_webhook"),
    path("creator/", include("affiliates.urls")),
    path("cart/", include(orders_urls.cart_patterns)),
    path("checkout/", include(orders_urls.checkout_patterns)),
    path("orders/", include(orders_urls.order_patterns)),
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
