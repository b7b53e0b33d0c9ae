from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from marketplace.errors import DomainError
from orders.forms import AddToCartForm, CartQuantityForm
from orders.selectors import cart_summary
from orders.services.cart import (
    SESSION_CART_KEY,
    cart_add,
    cart_get,
    cart_get_or_create,
    cart_remove,
    cart_update,
)


def request_cart(request, *, create: bool = False):
    """The shopper's cart: by user when signed in, else by the key in the session."""
    if create:
        return cart_get_or_create(user=request.user, session=request.session)
    return cart_get(user=request.user, session_key=request.session.get(SESSION_CART_KEY))


def _back(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_safe
def cart_detail(request):
    summary = cart_summary(cart=request_cart(request))
    return render(request, "orders/cart.html", {"summary": summary})


@require_POST
def cart_add_view(request):
    form = AddToCartForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an option and a quantity between 1 and 99.")
        return _back(request, "cart:detail")
    try:
        change = cart_add(
            cart=request_cart(request, create=True),
            sku_id=form.cleaned_data["sku_id"],
            quantity=form.cleaned_data["quantity"],
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, "cart:detail")
    (messages.warning if change.capped else messages.success)(request, change.message)
    return redirect("cart:detail")


@require_POST
def cart_update_view(request, sku_id: int):
    cart = request_cart(request)
    form = CartQuantityForm(request.POST)
    if cart is None or not form.is_valid():
        messages.error(request, "Enter a quantity between 0 and 99.")
        return redirect("cart:detail")
    try:
        change = cart_update(cart=cart, sku_id=sku_id, quantity=form.cleaned_data["quantity"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        (messages.warning if change.capped else messages.success)(request, change.message)
    return redirect("cart:detail")


@require_POST
def cart_remove_view(request, sku_id: int):
    cart = request_cart(request)
    if cart is not None:
        cart_remove(cart=cart, sku_id=sku_id)
    messages.success(request, "Removed from your cart.")
    return redirect("cart:detail")
