"""The one place a seller's status changes (DESIGN.md section 6)."""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from marketplace.errors import IllegalTransition
from marketplace.pagecache import storefront_changed
from sellers.models import Seller, SellerStatus, SellerStatusEvent


def seller_transition(
    *,
    seller_id: int,
    to_status: str,
    actor=None,
    message: str = "",
    extra_updates: dict | None = None,
    after_commit: Callable[[Seller], None] | None = None,
) -> Seller:
    """Move a seller to `to_status` under a row lock, write the audit row, and run `after_commit`
    (emails, notifications) once the transaction has committed.

    Opens its own transaction (or joins the caller's). Raises IllegalTransition, changing nothing,
    when SELLER_TRANSITIONS does not allow the change from the current status.
    """
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        if not seller.can_transition_to(to_status):
            raise IllegalTransition(
                f"A {seller.get_status_display().lower()} seller cannot be moved to "
                f"{SellerStatus(to_status).label.lower()}."
            )
        from_status = seller.status
        seller.status = to_status
        seller.status_message = message
        update_fields = ["status", "status_message"]
        if to_status == SellerStatus.SUBMITTED:
            seller.submitted_at = timezone.now()
            update_fields.append("submitted_at")
        if to_status == SellerStatus.APPROVED and seller.approved_at is None:
            seller.approved_at = timezone.now()
            update_fields.append("approved_at")
        for name, value in (extra_updates or {}).items():
            setattr(seller, name, value)
            update_fields.append(name)
        seller.save(update_fields=update_fields)
        SellerStatusEvent.objects.create(
            seller=seller,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            message=message,
        )
        storefront_changed()  # the shop and its products appear on or vanish from the storefront
        if after_commit is not None:
            transaction.on_commit(lambda: after_commit(seller))
    return seller
