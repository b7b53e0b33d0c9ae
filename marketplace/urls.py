from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from marketplace import views

storefront_patterns = (
    [path("", views.home, name="home")],
    "storefront",
)

urlpatterns = [
    path("", include(storefront_patterns)),
    path("accounts/", include("marketplace.accounts.urls")),
    path("seller/", include("sellers.urls")),
    path("creator/", include("affiliates.urls")),
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
