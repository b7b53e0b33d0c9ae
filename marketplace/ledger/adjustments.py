"""Manual adjustments of a seller's balance by platform staff (issue 12; docs/architecture.md,
"Money and the ledger").

A credit (the platform pays the shop: a goodwill gesture, a fee charged by mistake) or a debit
(the shop pays the platform: a chargeback the ledger did not see) is a `LedgerAdjustment` row with
a reason, then one balanced transaction `adjustment:<id>` built by
`journal.journal_seller_adjusted`. Below `settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR` it is created
approved and posted in the same transaction; from that amount up it waits for a second staff
member: `adjustment_approve` refuses the creator (a CHECK constraint backs it), and posts;
`adjustment_reject` closes it without touching the ledger. Who may create or approve at all is
the admin's permission check (sellers/admin/payouts.py); the rules on the amounts and the two
people are here.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.ledger.journal import journal_seller_adjusted
from marketplace.ledger.models import LEDGER_ADJUSTMENT_MACHINE, LedgerAdjustment
from marketplace.money import CURRENCY_EXPONENTS, Money
from marketplace.state import transition

# A guard against a slipped finger (ten billion in minor units): no manual adjustment is larger.
ADJUSTMENT_MAXIMUM_MINOR = 10**12
REASON_MAX_LENGTH = LedgerAdjustment._meta.get_field("reason").max_length

Status = LedgerAdjustment.Status


class AdjustmentError(DomainError):
    code = "adjustment_refused"


def adjustment_needs_approval(
    amount_minor: int, *, seller_id: int | None = None, actor=None, now=None
) -> bool:
    """At or above the threshold, counting what the same person adjusted for the same shop in
    the last 24 hours: many small adjustments cannot add up past the second approval."""
    recent = 0
    if seller_id is not None and actor is not None:
        since = (now or timezone.now()) - timedelta(hours=24)
        recent = (
            LedgerAdjustment.objects.filter(
                seller_id=seller_id, created_by=actor, created_at__gte=since
            )
            .exclude(status=LedgerAdjustment.Status.REJECTED)
            .aggregate(total=Sum("amount_minor"))["total"]
            or 0
        )
    return amount_minor + recent >= settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR


def _checked(*, seller_id, direction, amount_minor, currency, reason) -> tuple[str, str]:
    if not isinstance(seller_id, int) or isinstance(seller_id, bool) or seller_id <= 0:
        raise AdjustmentError("Choose the shop to adjust.", code="seller_required")
    if direction not in LedgerAdjustment.Direction.values:
        raise AdjustmentError("Choose credit or debit.", code="invalid_direction")
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise AdjustmentError("The amount must be more than zero.", code="amount_not_positive")
    if amount_minor > ADJUSTMENT_MAXIMUM_MINOR:
        raise AdjustmentError("That amount is too large.", code="amount_too_large")
    currency = (currency or "").upper()
    if currency not in CURRENCY_EXPONENTS:
        raise AdjustmentError(f"Unknown currency {currency!r}.", code="invalid_currency")
    reason = " ".join((reason or "").split())
    if not reason:
        raise AdjustmentError("Say why: the reason is required.", code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise AdjustmentError(
            f"Keep the reason within {REASON_MAX_LENGTH} characters.", code="reason_too_long"
        )
    return currency, reason


def _post(adjustment: LedgerAdjustment, *, actor, now) -> LedgerAdjustment:
    """Approved -> posted: the ledger transaction and the status in one database transaction."""
    journal_seller_adjusted(
        adjustment_id=adjustment.pk,
        seller_id=adjustment.seller_id,
        direction=adjustment.direction,
        amount=Money(adjustment.amount_minor, adjustment.currency),
        description=f"Adjustment: {adjustment.reason}",
    )
    return transition(
        LEDGER_ADJUSTMENT_MACHINE,
        instance=adjustment,
        to_status=Status.POSTED,
        actor=actor,
        fields={"posted_at": now},
        now=now,
    )


def adjustment_create(
    *,
    seller_id: int,
    direction: str,
    amount_minor: int,
    currency: str,
    reason: str,
    actor,
    shop_name: str = "",
    now=None,
) -> LedgerAdjustment:
    """Record a manual credit or debit for the seller. Below the approval threshold it is
    posted at once (status posted); from it up it waits for a second staff member (status
    pending_approval). Raises AdjustmentError, writing nothing, for a missing reason, an amount
    that is not positive, an unknown direction or currency."""
    currency, reason = _checked(
        seller_id=seller_id,
        direction=direction,
        amount_minor=amount_minor,
        currency=currency,
        reason=reason,
    )
    now = now or timezone.now()
    needs_approval = adjustment_needs_approval(
        amount_minor, seller_id=seller_id, actor=actor, now=now
    )
    with transaction.atomic():
        adjustment = LedgerAdjustment.objects.create(
            seller_id=seller_id,
            shop_name=(shop_name or "")[:80],
            direction=direction,
            amount_minor=amount_minor,
            currency=currency,
            reason=reason,
            # Below the threshold one person's word is enough: created approved, posted now.
            status=Status.PENDING_APPROVAL if needs_approval else Status.APPROVED,
            created_by=actor,
            created_at=now,
            decided_at=None if needs_approval else now,
        )
        if not needs_approval:
            _post(adjustment, actor=actor, now=now)
    return adjustment


def _pending(adjustment_id: int) -> LedgerAdjustment:
    adjustment = LedgerAdjustment.objects.select_for_update().filter(pk=adjustment_id).first()
    if adjustment is None:
        raise AdjustmentError("No such adjustment.", code="not_found")
    if adjustment.status != Status.PENDING_APPROVAL:
        raise AdjustmentError(
            f"This adjustment is already {adjustment.get_status_display().lower()}.",
            code="already_decided",
        )
    return adjustment


def adjustment_approve(*, adjustment_id: int, actor, now=None) -> LedgerAdjustment:
    """A second staff member approves a waiting adjustment, which is posted at once. Raises
    AdjustmentError for its own creator or an adjustment no longer waiting."""
    now = now or timezone.now()
    with transaction.atomic():
        adjustment = _pending(adjustment_id)
        if actor is None or adjustment.created_by_id == actor.pk:
            raise AdjustmentError(
                "Someone other than the person who made this adjustment must approve it.",
                code="second_approver_required",
            )
        transition(
            LEDGER_ADJUSTMENT_MACHINE,
            instance=adjustment,
            to_status=Status.APPROVED,
            actor=actor,
            fields={"approved_by": actor, "decided_at": now},
            now=now,
        )
        _post(adjustment, actor=actor, now=now)
    return adjustment


def adjustment_reject(*, adjustment_id: int, actor, reason: str = "", now=None) -> LedgerAdjustment:
    """Close a waiting adjustment without posting anything. Anyone allowed to decide may reject,
    the creator included (withdrawing a mistake needs no second pair of eyes)."""
    now = now or timezone.now()
    reason = " ".join((reason or "").split())[:300]
    with transaction.atomic():
        adjustment = _pending(adjustment_id)
        transition(
            LEDGER_ADJUSTMENT_MACHINE,
            instance=adjustment,
            to_status=Status.REJECTED,
            actor=actor,
            message=reason,
            fields={"rejected_by": actor, "rejection_reason": reason, "decided_at": now},
            now=now,
        )
    return adjustment
