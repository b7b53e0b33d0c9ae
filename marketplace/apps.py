from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    """The shared core: layouts, design system, health checks, demo data, job heartbeat."""

    name = "marketplace"
    verbose_name = "Marketplace core"

    def ready(self):
        from django.conf import settings
        from django.contrib import admin

        admin.site.site_header = f"{settings.MARKETPLACE_NAME} platform admin"
        admin.site.site_title = f"{settings.MARKETPLACE_NAME} admin"
        admin.site.index_title = "Run the marketplace"
