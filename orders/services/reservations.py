"""Unpaid reservations: the stock an unpaid checkout holds goes back when its time is up (the
expiry job), when the buyer starts a newer checkout, or after too many declined cards
(docs/architecture.md, "Orders and checkout"). One routine releases them all, once."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from marketplace.state import StaleTransition, transition, transition_many
from orders.models import (
    CHECKOUT_MACHINE,
    ORDER_MACHINE,
    Checkout,
    CheckoutStatus,
    Order,
    OrderLine,
    OrderStatus,
)
from orders.services.stock import stock_refresh_products, stock_release


def orders_expire_unpaid(*, now=None) -> int:
    """Cancel every unpaid order past its expiry and give its stock back, once. Returns how many
    orders expired."""
    now = now or timezone.now()
    candidate_ids = list(
        Order.objects.filter(status=OrderStatus.UNPAID, expires_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)
    )
    return _cancel_unpaid_orders(
        order_ids=candidate_ids,
        now=now,
        message="Not paid in time: cancelled and the items released.",
        still_due=Q(expires_at__lte=now),
    )


def checkouts_release(*, checkout_ids: list[int], message: str) -> int:
    """Give up the reservation of checkouts that will not be paid (replaced by a newer checkout,
    or declined too often): their unpaid orders are cancelled and restocked, the checkouts expire
    with `message`. Returns how many orders were cancelled."""
    order_ids = list(
        Order.objects.filter(checkout_id__in=checkout_ids, status=OrderStatus.UNPAID)
        .order_by("id")
        .values_list("id", flat=True)
    )
    waiting = Checkout.objects.filter(
        id__in=checkout_ids, status__in=[CheckoutStatus.OPEN, CheckoutStatus.FAILED]
    )
    waiting.update(failure_message=message[:300])
    cancelled = _cancel_unpaid_orders(order_ids=order_ids, now=timezone.now(), message=message)
    # Each checkout expired with its last order above; this catches one with no unpaid order.
    transition_many(
        CHECKOUT_MACHINE,
        pks=checkout_ids,
        where=~Q(orders__status=OrderStatus.UNPAID),
        from_status=[CheckoutStatus.OPEN, CheckoutStatus.FAILED],
        to_status=CheckoutStatus.EXPIRED,
    )
    return cancelled


def _cancel_unpaid_orders(*, order_ids: list[int], now, message: str, still_due=None) -> int:
    """Each order moves unpaid -> cancelled with a compare-and-swap on its status, so a second
    run, a parallel worker or a payment landing at the same moment cannot release it twice; only
    the run that moved it restocks its lines and writes the audit row. A checkout left with no
    unpaid order expires. `still_due`: a further condition the order must still meet."""
    cancelled, product_ids = 0, set()
    for order_id in order_ids:
        with transaction.atomic():
            try:
                transition(
                    ORDER_MACHINE,
                    pk=order_id,
                    from_status=OrderStatus.UNPAID,
                    to_status=OrderStatus.CANCELLED,
                    where=still_due,
                    message=message,
                    now=now,
                )
            except StaleTransition:
                continue  # paid, or released by another run, meanwhile
            cancelled += 1
            quantities: dict[int, int] = {}
            for sku_id, product_id, quantity in OrderLine.objects.filter(
                order_id=order_id, sku__isnull=False
            ).values_list("sku_id", "product_id_copy", "quantity"):
                quantities[sku_id] = quantities.get(sku_id, 0) + quantity
                product_ids.add(product_id)
            stock_release(quantities=quantities)
            checkout_id = Order.objects.filter(id=order_id).values_list("checkout_id", flat=True)[0]
            if not Order.objects.filter(
                checkout_id=checkout_id, status=OrderStatus.UNPAID
            ).exists():
                transition_many(
                    CHECKOUT_MACHINE,
                    pks=[checkout_id],
                    from_status=[CheckoutStatus.OPEN, CheckoutStatus.FAILED],
                    to_status=CheckoutStatus.EXPIRED,
                    now=now,
                )
    if product_ids:
        stock_refresh_products(product_ids=[pid for pid in product_ids if pid])
    return cancelled
