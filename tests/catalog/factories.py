import factory

from catalog.models import SKU, Brand, Product, ProductStatus
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    normalized_name = factory.LazyAttribute(lambda o: " ".join(o.name.lower().split()))
    slug = factory.Sequence(lambda n: f"brand-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    """A product in `status` (default draft) with no SKUs; add them with SKUFactory."""

    class Meta:
        model = Product

    seller = factory.SubFactory(ApprovedSellerFactory)
    status = ProductStatus.DRAFT
    title = factory.Sequence(lambda n: f"Linen shirt {n}")
    description = "A comfortable shirt made of washed linen."
    category = factory.SubFactory(CategoryFactory)


class LiveProductFactory(ProductFactory):
    status = ProductStatus.LIVE
    price_min_minor = 2500
    price_max_minor = 2500
    in_stock = True


class SKUFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SKU

    product = factory.SubFactory(ProductFactory)
    seller_sku = factory.Sequence(lambda n: f"SKU-{n}")
    price_minor = 2500
    stock_on_hand = 10
