"""Writes for violations: points against a seller, and the consequences the thresholds attach.

Three thresholds from `EnforcementSettings.current()`:
- warn: crossing it emails the owner a warning;
- restrict listing: at or above it `seller_can_list` is false. Nothing is stored for this, so the
  restriction lifts by itself when points expire;
- suspend: at or above it an approved seller is suspended through `seller_transition`. Lifting a
  suspension is a person's decision (admin), not automatic.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.notifications.services import notify
from policies.models import EnforcementSettings
from sellers.models import Seller, SellerStatus, Violation
from sellers.prerequisites import seller_active_violation_points
from sellers.services.transitions import seller_transition

MAX_POINTS_PER_VIOLATION = 100


class InvalidViolation(DomainError):
    code = "invalid_violation"


@dataclass(frozen=True)
class ThresholdCrossing:
    level: str  # "warn", "restrict" or "suspend"
    points_before: int
    points_after: int
    thresholds: EnforcementSettings


def violation_record(
    *,
    seller_id: int,
    kind: str,
    points: int,
    reason: str,
    recorded_by=None,
    rule: str = "",
    occurred_at: datetime | None = None,
) -> Violation:
    """Record a violation and apply the thresholds it crosses.

    Locks the seller row, so two violations recorded at once count each other's points. Raises
    InvalidViolation (nothing written) for an unknown kind, points outside 1-100 or an empty
    reason. A suspension, when due, happens in the same transaction; emails go out on commit.
    """
    reason = (reason or "").strip()
    if kind not in Violation.Kind.values:
        raise InvalidViolation(f"Unknown violation kind {kind!r}.")
    if not isinstance(points, int) or not 1 <= points <= MAX_POINTS_PER_VIOLATION:
        raise InvalidViolation(f"A violation carries 1 to {MAX_POINTS_PER_VIOLATION} points.")
    if not reason:
        raise InvalidViolation("Give the reason the seller will read.")
    thresholds = EnforcementSettings.current()
    occurred_at = occurred_at or timezone.now()

    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        points_before = seller_active_violation_points(seller=seller)
        violation = Violation.objects.create(
            seller=seller,
            kind=kind,
            points=points,
            reason=reason,
            recorded_by=recorded_by,
            rule=rule,
            occurred_at=occurred_at,
            expires_at=occurred_at + timedelta(days=thresholds.points_expire_after_days),
        )
        points_after = seller_active_violation_points(seller=seller)
        # Only an open shop can be suspended; for one still applying (or already suspended) the
        # suspension threshold does nothing, and it hears only about thresholds it newly crossed.
        can_be_suspended = seller.status == SellerStatus.APPROVED
        crossing = _highest_crossing(
            points_before, points_after, thresholds, include_suspend=can_be_suspended
        )
        if crossing is None:
            return violation
        if crossing.level == "suspend":
            seller_transition(
                seller_id=seller.pk,
                to_status=SellerStatus.SUSPENDED,
                actor=recorded_by,
                message=(
                    f"Your shop is suspended: it has {points_after} active violation points, at or "
                    f"above the limit of {thresholds.suspend_points}. Contact support to appeal."
                ),
            )
        _notify_threshold(seller, crossing, violation)
    return violation


def _highest_crossing(
    before: int, after: int, thresholds: EnforcementSettings, *, include_suspend: bool = True
) -> ThresholdCrossing | None:
    """The strictest threshold this violation took the seller across (below before, at or above
    after), or None. A seller already past a threshold is not warned again for each new point."""
    for level, limit in (
        ("suspend", thresholds.suspend_points),
        ("restrict", thresholds.restrict_listing_points),
        ("warn", thresholds.warn_points),
    ):
        if level == "suspend" and not include_suspend:
            continue
        if before < limit <= after:
            return ThresholdCrossing(level, before, after, thresholds)
    return None


def _notify_threshold(seller: Seller, crossing: ThresholdCrossing, violation: Violation) -> None:
    thresholds = crossing.thresholds
    owner = seller.owner
    notify(
        kind=f"seller.violation_{crossing.level}",
        key=f"violation-threshold:{violation.pk}",
        to_email=owner.email,
        user=owner,
        about=f"seller:{seller.pk}",
        subject_template="sellers/email/violation_threshold_subject.txt",
        body_template="sellers/email/violation_threshold.txt",
        context={
            "shop_name": seller.shop_name,
            "violation_kind": violation.get_kind_display().lower(),
            "violation_points": violation.points,
            "violation_reason": violation.reason,
            "level": crossing.level,
            "points_after": crossing.points_after,
            "points_expire_after_days": thresholds.points_expire_after_days,
            "restrict_listing_points": thresholds.restrict_listing_points,
            "suspend_points": thresholds.suspend_points,
        },
    )
