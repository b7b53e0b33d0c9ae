from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from marketplace.errors import DomainError
from orders.forms import CheckoutForm, PaymentForm
from orders.models import BuyerAddress, CheckoutStatus
from orders.selectors import buyer_checkout_get, cart_summary
from orders.services.addresses import buyer_address_create
from orders.services.cart import cart_get
from orders.services.checkout import checkout_place, checkout_retry_payment

TEST_CARDS = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "is declined"),
]


@login_required
@require_http_methods(["GET", "POST"])
def checkout_view(request):
    summary = cart_summary(cart=cart_get(user=request.user))
    if summary.is_empty:
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    form = CheckoutForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        if summary.has_problems:
            messages.error(request, "Some items in your cart changed. Review them first.")
            return redirect("cart:detail")
        address = form.cleaned_data.get("saved_address")
        if address is None:
            values = form.address_values()
            if form.cleaned_data["save_address"]:
                address = buyer_address_create(user=request.user, **values)
            else:
                address = BuyerAddress(user=request.user, **values)
        try:
            checkout = checkout_place(
                buyer=request.user,
                address=address,
                payment_method=form.cleaned_data["card_number"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if checkout.status == CheckoutStatus.PAID:
                messages.success(request, "Thank you! Your order is placed.")
                return redirect("checkout:done", checkout_id=checkout.id)
            return redirect("checkout:pay", checkout_id=checkout.id)
    return render(
        request,
        "orders/checkout.html",
        {"form": form, "summary": summary, "test_cards": TEST_CARDS},
    )


@login_required
@require_http_methods(["GET", "POST"])
def checkout_pay(request, checkout_id: int):
    """Pay again for a checkout whose payment failed; its items stay reserved until expiry."""
    checkout = buyer_checkout_get(user=request.user, checkout_id=checkout_id)
    if checkout.status == CheckoutStatus.PAID:
        return redirect("checkout:done", checkout_id=checkout.id)
    form = PaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            checkout = checkout_retry_payment(
                checkout=checkout, payment_method=form.cleaned_data["card_number"]
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if checkout.status == CheckoutStatus.PAID:
                messages.success(request, "Thank you! Your payment went through.")
                return redirect("checkout:done", checkout_id=checkout.id)
            return redirect("checkout:pay", checkout_id=checkout.id)
    orders = list(checkout.orders.all())
    return render(
        request,
        "orders/checkout_pay.html",
        {
            "checkout": checkout,
            "orders": orders,
            "form": form,
            "test_cards": TEST_CARDS,
            "expires_at": min((o.expires_at for o in orders if o.expires_at), default=None),
        },
    )


@login_required
def checkout_done(request, checkout_id: int):
    checkout = buyer_checkout_get(user=request.user, checkout_id=checkout_id)
    if checkout.status != CheckoutStatus.PAID:
        return redirect("checkout:pay", checkout_id=checkout.id)
    return render(
        request,
        "orders/checkout_done.html",
        {"checkout": checkout, "orders": list(checkout.orders.all())},
    )
