"""The seller's credentials for listing screening: the restricted categories and brands its
approved qualifications cover. policies.screening is a pure function and cannot read sellers, so
catalog reads the credentials here and passes them in."""

from django.db.models import Q
from django.utils import timezone

from policies.screening import SellerCredentials, normalize_brand
from sellers.models import Qualification, Seller


def seller_screening_credentials(*, seller: Seller) -> SellerCredentials:
    """Approved qualifications that have not expired, as plain values. One query."""
    today = timezone.localdate()
    approved = (
        Qualification.objects.filter(seller=seller, status=Qualification.Status.APPROVED)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .values_list("kind", "category_id", "brand_name")
    )
    category_ids: set[int] = set()
    brands: set[str] = set()
    for kind, category_id, brand_name in approved:
        if kind == Qualification.Kind.CATEGORY and category_id is not None:
            category_ids.add(category_id)
        elif kind == Qualification.Kind.BRAND and normalize_brand(brand_name):
            brands.add(normalize_brand(brand_name))
    return SellerCredentials(
        qualified_category_ids=frozenset(category_ids), authorized_brands=frozenset(brands)
    )
