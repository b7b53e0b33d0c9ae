"""The cart: add, change, remove and merge lines, with live checks against the catalog.

Anonymous shoppers' carts are found by a random key kept in their session data (Django rotates
the session id at login, the data survives), signed-in shoppers' by user. At login the session
cart is merged into the user's cart (orders registers `cart_merge_after_login` as an after-login
hook in OrdersConfig.ready()).
"""

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from catalog.models import SKU
from marketplace.errors import DomainError
from orders.models import Cart, CartLine
from orders.services.stock import sku_is_buyable

SESSION_CART_KEY = "orders_cart_key"
MAX_QUANTITY_PER_LINE = 99


class NotBuyable(DomainError):
    code = "not_buyable"


@dataclass(frozen=True)
class CartChange:
    quantity: int
    message: str
    capped: bool = False


def cart_get(*, user=None, session_key: str | None = None) -> Cart | None:
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if session_key:
        return Cart.objects.filter(session_key=session_key).first()
    return None


def cart_get_or_create(*, user=None, session=None) -> Cart:
    """The shopper's cart, created on first use. `session` is request.session (anonymous)."""
    if user is not None and user.is_authenticated:
        cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    if session is None:
        raise ValueError("an anonymous cart needs a session")
    key = session.get(SESSION_CART_KEY)
    if key:
        cart = Cart.objects.filter(session_key=key).first()
        if cart is not None:
            return cart
    key = secrets.token_urlsafe(32)
    session[SESSION_CART_KEY] = key
    return Cart.objects.create(session_key=key)


def _buyable_sku(sku_id: int) -> SKU:
    sku = SKU.objects.select_related("product__seller").filter(id=sku_id).first()
    if sku is None or not sku_is_buyable(sku):
        raise NotBuyable("This item is no longer available.")
    return sku


def _capped(sku: SKU, wanted: int) -> CartChange:
    title = sku.product.title
    if sku.stock_on_hand <= 0:
        raise NotBuyable(f"Sold out: {title}.", code="sold_out")
    limit = min(sku.stock_on_hand, MAX_QUANTITY_PER_LINE)
    if wanted > limit:
        return CartChange(
            limit,
            f"Only {limit} of {title} available; your cart now has {limit}.",
            capped=True,
        )
    return CartChange(wanted, "")


def cart_add(*, cart: Cart, sku_id: int, quantity: int = 1) -> CartChange:
    """Add `quantity` of a SKU (on top of what the cart has), capped to the stock on hand.

    Raises NotBuyable for a SKU that is not for sale or sold out, DomainError for quantity < 1."""
    if quantity < 1:
        raise DomainError("Choose a quantity of at least 1.", code="invalid_quantity")
    sku = _buyable_sku(sku_id)
    # Ten adds at once must give ten units: the line is read under its row lock and written in
    # the same transaction, never read here and written from a stale value there.
    for _ in range(2):
        try:
            with transaction.atomic():
                existing = (
                    CartLine.objects.select_for_update()
                    .filter(cart=cart, sku=sku)
                    .values_list("quantity", flat=True)
                    .first()
                )
                change = _capped(sku, (existing or 0) + quantity)
                if existing is None:
                    # Two first adds at once: the unique (cart, sku) constraint lets one insert;
                    # the other goes round again and adds to the line it made.
                    CartLine.objects.create(
                        cart=cart,
                        sku=sku,
                        quantity=change.quantity,
                        price_seen_minor=sku.price_minor,
                    )
                else:
                    CartLine.objects.filter(cart=cart, sku=sku).update(
                        quantity=change.quantity, price_seen_minor=sku.price_minor
                    )
                Cart.objects.filter(id=cart.id).update(updated_at=F("updated_at"))
            break
        except IntegrityError:
            continue
    else:
        raise DomainError("Your cart changed at the same moment: please try again.", code="busy")
    message = change.message or f"Added {sku.product.title} to your cart."
    return CartChange(change.quantity, message, change.capped)


def cart_update(*, cart: Cart, sku_id: int, quantity: int) -> CartChange:
    """Set a line's quantity (0 removes it), capped to the stock on hand."""
    if quantity <= 0:
        cart_remove(cart=cart, sku_id=sku_id)
        return CartChange(0, "Removed from your cart.")
    if not CartLine.objects.filter(cart=cart, sku_id=sku_id).exists():
        raise DomainError("That item is not in your cart.", code="not_in_cart")
    sku = _buyable_sku(sku_id)
    change = _capped(sku, quantity)
    CartLine.objects.filter(cart=cart, sku_id=sku_id).update(
        quantity=change.quantity, price_seen_minor=sku.price_minor
    )
    return CartChange(change.quantity, change.message or "Quantity updated.", change.capped)


def cart_remove(*, cart: Cart, sku_id: int) -> None:
    CartLine.objects.filter(cart=cart, sku_id=sku_id).delete()


def cart_merge(*, source: Cart, target: Cart) -> None:
    """Move the lines of `source` (an anonymous cart) into `target` (the user's), adding
    quantities and capping to the stock on hand; lines no longer buyable are dropped. Deletes
    `source`."""
    with transaction.atomic():
        target_lines = {line.sku_id: line for line in CartLine.objects.filter(cart=target)}
        for line in CartLine.objects.filter(cart=source).select_related("sku__product__seller"):
            sku = line.sku
            if not sku_is_buyable(sku) or sku.stock_on_hand <= 0:
                continue
            existing = target_lines.get(sku.id)
            wanted = line.quantity + (existing.quantity if existing else 0)
            quantity = min(wanted, sku.stock_on_hand, MAX_QUANTITY_PER_LINE)
            if existing:
                CartLine.objects.filter(id=existing.id).update(quantity=quantity)
            else:
                CartLine.objects.create(
                    cart=target, sku=sku, quantity=quantity, price_seen_minor=line.price_seen_minor
                )
        source.delete()


def cart_merge_after_login(*, request, user) -> None:
    """After-login hook: fold the session's cart into the user's cart."""
    key = request.session.get(SESSION_CART_KEY)
    if not key:
        return
    source = Cart.objects.filter(session_key=key, user__isnull=True).first()
    request.session.pop(SESSION_CART_KEY, None)
    if source is None:
        return
    try:
        target, _ = Cart.objects.get_or_create(user=user)
    except IntegrityError:  # a parallel login created it
        target = Cart.objects.get(user=user)
    cart_merge(source=source, target=target)
