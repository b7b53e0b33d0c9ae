"""The storefront-visibility rule, tested in this one place: a shopper sees a live product of an
approved seller and nothing else. catalog.selectors owns it (`storefront_visible_q` for queries,
`product_is_storefront_visible` for loaded products); the listings, product pages, featured
categories, IP reports and the cart's "still for sale" check call it, so they cannot disagree."""

import pytest

from catalog.models import SKU, Product, ProductStatus
from catalog.selectors import (
    product_detail,
    product_is_storefront_visible,
    storefront_featured_categories,
    storefront_visible_products,
    storefront_visible_q,
)
from orders.services.stock import sku_is_buyable
from sellers.models import SellerStatus
from tests.catalog.factories import ProductFactory, SKUFactory
from tests.sellers.factories import SellerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seller_status", SellerStatus.values)
@pytest.mark.parametrize("product_status", ProductStatus.values)
def test_only_a_live_product_of_an_approved_seller_is_visible(product_status, seller_status):
    product = ProductFactory(seller=SellerFactory(status=seller_status), status=product_status)
    sku = SKUFactory(product=product)
    expected = product_status == ProductStatus.LIVE and seller_status == SellerStatus.APPROVED

    # The rule itself, as a query and in memory.
    assert Product.objects.filter(storefront_visible_q(), pk=product.pk).exists() is expected
    loaded = Product.objects.select_related("seller").get(pk=product.pk)
    assert product_is_storefront_visible(loaded) is expected
    # Its callers.
    assert storefront_visible_products().filter(pk=product.pk).exists() is expected
    assert (product_detail(product_id=product.pk) is not None) is expected
    featured = {node.id for node, _ in storefront_featured_categories()}
    assert (product.category_id in featured) is expected
    assert sku_is_buyable(SKU.objects.select_related("product__seller").get(pk=sku.pk)) is expected


def test_an_inactive_variant_of_a_visible_product_cannot_be_bought():
    product = ProductFactory(status=ProductStatus.LIVE)
    sku = SKUFactory(product=product, is_active=False)

    assert product_is_storefront_visible(product)
    assert not sku_is_buyable(SKU.objects.select_related("product__seller").get(pk=sku.pk))
