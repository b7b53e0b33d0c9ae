from django import template
from django.conf import settings
from django.utils import timezone

from marketplace.money import Money
from orders.carriers import carrier_get
from orders.models import BUYER_STATUS_LABELS
from orders.selectors import cart_item_count
from orders.services.cart import SESSION_CART_KEY

register = template.Library()


@register.filter
def money(amount_minor, currency=None):
    """Format an integer amount in minor units: {{ order.total_minor|money:order.currency }}."""
    if amount_minor is None or amount_minor == "":
        return ""
    return Money(int(amount_minor), currency or settings.MARKETPLACE_CURRENCY).format()


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:
    """How many items the shopper's cart holds (orders.selectors.cart_item_count: one query;
    none for a visitor without a cart)."""
    request = context.get("request")
    if request is None:
        return 0
    session = getattr(request, "session", None)
    return cart_item_count(
        user=getattr(request, "user", None),
        session_key=session.get(SESSION_CART_KEY) if session is not None else None,
    )


@register.filter
def time_left(deadline) -> str:
    """How long until `deadline`, in the largest sensible unit ("45 min", "5 h", "3 d"), or
    "overdue" once it has passed; "" without a deadline. {{ order.ship_by|time_left }}."""
    if not deadline:
        return ""
    seconds = (deadline - timezone.now()).total_seconds()
    if seconds <= 0:
        return "overdue"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} d"


@register.filter
def carrier_name(code: str) -> str:
    """A carrier's name from its code (orders.carriers): {{ shipment.carrier|carrier_name }}."""
    carrier = carrier_get(code or "")
    return carrier.name if carrier else code


@register.filter
def buyer_status(status: str) -> str:
    """An order status in the buyer's words (orders.models.BUYER_STATUS_LABELS)."""
    return BUYER_STATUS_LABELS.get(status, status)
