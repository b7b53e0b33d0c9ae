"""Reads about sellers. Everything seller-facing takes the seller and filters by it."""

from policies.selectors import policy_versions_in_force
from sellers.models import Seller, SellerMember


def seller_membership_for_user(*, user) -> SellerMember | None:
    """The Seller Center membership of a signed-in user (owner or staff), or None.

    A person works for at most one seller in this version; the earliest membership wins.
    """
    if not user.is_authenticated:
        return None
    return (
        SellerMember.objects.select_related("seller")
        .filter(user=user)
        .exclude(seller__status="closed")
        .order_by("joined_at", "id")
        .first()
    )


def seller_get_open_by_slug(*, slug: str) -> Seller | None:
    return Seller.objects.filter(slug=slug, status="approved").first()


def seller_policies_outstanding(*, seller: Seller) -> list:
    """Policy versions in force that this seller has not accepted yet (empty: all accepted)."""
    in_force = policy_versions_in_force(seller_facing_only=True)
    accepted = set(
        seller.policy_acceptances.filter(policy_version__in=in_force).values_list(
            "policy_version_id", flat=True
        )
    )
    return [version for version in in_force if version.pk not in accepted]
