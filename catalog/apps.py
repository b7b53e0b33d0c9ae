from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Categories, brands, products, SKUs, images, listing review, storefront browsing and search."""

    name = "catalog"
