"""The demo catalog: over 200 live products with images across the open shops, a few rejected
and pending ones, each through the real services; seeding twice adds nothing."""

import io

import pytest
from django.core.management import call_command

from catalog.models import ListingDecision, Product, ProductImage, ProductStatus

pytestmark = pytest.mark.django_db


def test_the_demo_lists_over_200_live_products_with_images_and_some_held_or_refused():
    call_command("seed_demo", stdout=io.StringIO())

    live = Product.objects.filter(status=ProductStatus.LIVE)
    assert live.count() >= 200
    assert live.values("seller").distinct().count() == 5
    assert live.values("category").distinct().count() >= 14
    assert not live.filter(images__isnull=True).exists()
    assert not ProductImage.objects.filter(thumbnail="").exists()
    assert live.filter(in_stock=True, price_min_minor__gt=0).count() == live.count()
    political = Product.objects.get(title="Vote for Smith 2028 campaign cap")
    assert political.status == ProductStatus.REJECTED
    assert political.decisions.get().outcome == ListingDecision.Outcome.REJECTED
    assert Product.objects.filter(status=ProductStatus.REJECTED).count() >= 2
    assert Product.objects.filter(status=ProductStatus.PENDING_REVIEW).count() >= 2
    # Every product went through screening: one decision each, and its status history.
    assert ListingDecision.objects.count() == Product.objects.count()
    counts = (Product.objects.count(), ProductImage.objects.count())

    call_command("seed_demo", stdout=io.StringIO())

    assert (Product.objects.count(), ProductImage.objects.count()) == counts
