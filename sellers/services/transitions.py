"""The one place a seller's status changes (docs/architecture.md, "State machines")."""

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from marketplace.pagecache import storefront_changed
from marketplace.state import transition
from sellers.models import SELLER_MACHINE, Seller, SellerStatus


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
        # The lock keeps the timestamps below consistent with the status they go with.
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        fields = {"status_message": message}
        if to_status == SellerStatus.SUBMITTED:
            fields["submitted_at"] = timezone.now()
        if to_status == SellerStatus.APPROVED and seller.approved_at is None:
            fields["approved_at"] = timezone.now()
        fields.update(extra_updates or {})
        transition(
            SELLER_MACHINE,
            instance=seller,
            to_status=to_status,
            actor=actor,
            message=message,
            fields=fields,
        )
        storefront_changed()  # the shop and its products appear on or vanish from the storefront
        if after_commit is not None:
            transaction.on_commit(lambda: after_commit(seller))
    return seller
