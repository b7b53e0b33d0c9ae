from django import template
from django.conf import settings
from django.db.models import Sum

from marketplace.money import Money
from orders.models import CartLine
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
    """How many items the shopper's cart holds (one query; none for a visitor without a cart)."""
    request = context.get("request")
    if request is None:
        return 0
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        lines = CartLine.objects.filter(cart__user=user)
    else:
        key = request.session.get(SESSION_CART_KEY) if hasattr(request, "session") else None
        if not key:
            return 0
        lines = CartLine.objects.filter(cart__session_key=key)
    return lines.aggregate(total=Sum("quantity"))["total"] or 0
