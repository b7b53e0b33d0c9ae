"""Reads that decide whether a seller may list products: the onboarding checklist, and the
standing that violation points give a seller.

`seller_can_list` is the single listing gate. Catalog calls it before a product goes to review, the
dashboard shows the same list as a checklist, so what a seller is told and what is enforced can
never disagree. Nothing here is stored: "restricted" and "ready" are derived from the rows each
time, so an expired violation or a newly effective policy changes the answer with no job to run.
"""

from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from policies.models import EnforcementSettings
from policies.selectors import policy_versions_in_force
from sellers.models import (
    PayoutAccount,
    Seller,
    SellerPolicyAcceptance,
    ShippingTemplate,
    ShopAddress,
    Violation,
)
from sellers.selectors import seller_policies_outstanding


@dataclass(frozen=True)
class Prerequisite:
    key: str
    label: str
    done: bool
    url_name: str


@dataclass(frozen=True)
class ViolationStanding:
    """A seller's active violation points against the thresholds in force."""

    active_points: int
    warn_points: int
    restrict_listing_points: int
    suspend_points: int
    points_expire_after_days: int

    @property
    def is_warned(self) -> bool:
        return self.active_points >= self.warn_points

    @property
    def is_listing_restricted(self) -> bool:
        return self.active_points >= self.restrict_listing_points

    @property
    def is_over_suspension_threshold(self) -> bool:
        return self.active_points >= self.suspend_points


def seller_active_violation_points(*, seller: Seller, at=None) -> int:
    """The sum of the points of the seller's violations that have not expired at `at` (now)."""
    at = at or timezone.now()
    total = Violation.objects.filter(seller=seller, expires_at__gt=at).aggregate(
        total=Sum("points")
    )["total"]
    return total or 0


def seller_violation_standing(*, seller: Seller) -> ViolationStanding:
    thresholds = EnforcementSettings.current()
    return ViolationStanding(
        active_points=seller_active_violation_points(seller=seller),
        warn_points=thresholds.warn_points,
        restrict_listing_points=thresholds.restrict_listing_points,
        suspend_points=thresholds.suspend_points,
        points_expire_after_days=thresholds.points_expire_after_days,
    )


def seller_listing_prerequisites(*, seller: Seller) -> list[Prerequisite]:
    """Everything that must be true before the seller can list products, in the order a new
    seller usually does them. About seven small queries."""
    address_kinds = set(ShopAddress.objects.filter(seller=seller).values_list("kind", flat=True))
    has_shipping_template = ShippingTemplate.objects.filter(seller=seller).exists()
    payouts_enabled = PayoutAccount.objects.filter(seller=seller, payouts_enabled=True).exists()
    standing = seller_violation_standing(seller=seller)
    return [
        Prerequisite(
            "application_approved",
            "Your seller application is approved",
            seller.is_open,
            "seller_center:application",
        ),
        Prerequisite(
            "policies_accepted",
            "You have accepted the current marketplace policies",
            not seller_policies_outstanding(seller=seller),
            "seller_center:policies",
        ),
        Prerequisite(
            "ship_from_address",
            "Ship-from address added",
            ShopAddress.Kind.SHIP_FROM in address_kinds,
            "seller_center:address_ship_from",
        ),
        Prerequisite(
            "return_address",
            "Return address added",
            ShopAddress.Kind.RETURN in address_kinds,
            "seller_center:address_return",
        ),
        Prerequisite(
            "shipping_template",
            "Shipping fees and processing time set",
            has_shipping_template,
            "seller_center:shipping",
        ),
        Prerequisite(
            "payout_account",
            "Payout account connected and active",
            payouts_enabled,
            "seller_center:payouts",
        ),
        Prerequisite(
            "good_standing",
            "Not restricted by violation points",
            not standing.is_listing_restricted,
            "seller_center:policies",
        ),
    ]


def seller_can_list(*, seller: Seller) -> bool:
    """True when every listing prerequisite is met. Catalog calls this before accepting a listing."""
    return all(prerequisite.done for prerequisite in seller_listing_prerequisites(seller=seller))


def seller_has_changed_policies(*, seller: Seller) -> bool:
    """True when a policy the seller accepted before has a newer version in force that it has not
    accepted: the dashboard's "a policy has changed" banner. Two queries."""
    in_force = policy_versions_in_force(seller_facing_only=True)
    accepted = SellerPolicyAcceptance.objects.filter(seller=seller).values_list(
        "policy_version_id", "policy_version__document_id"
    )
    accepted_versions = {version_id for version_id, _ in accepted}
    accepted_documents = {document_id for _, document_id in accepted}
    return any(
        version.pk not in accepted_versions and version.document_id in accepted_documents
        for version in in_force
    )
