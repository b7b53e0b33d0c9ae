from django import template
from django.conf import settings

from marketplace.money import Money
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
