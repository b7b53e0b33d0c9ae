import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from marketplace.errors import DomainError
from orders.forms import CheckoutForm, PaymentForm
from orders.models import BuyerAddress, Checkout, CheckoutStatus, Refund, RefundReason
from orders.selectors import buyer_checkout_get, cart_summary
from orders.services.addresses import buyer_address_create
from orders.services.cart import cart_get
from orders.services.checkout import (
    CheckoutInProgress,
    PriceChanged,
    checkout_for_submit_token,
    checkout_place,
    checkout_retry_payment,
)

TEST_CARDS = [
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "is declined"),
]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def checkout_view(request):
    if request.method == "POST":
        # The same page submitted again (double-click, resubmit, a retried request) answers with
        # what the first submit placed, even once the cart is empty.
        placed = checkout_for_submit_token(
            buyer=request.user, submit_token=request.POST.get("submit_token", "")[:64]
        )
        if placed is not None:
            return _redirect_to_checkout(placed)
    summary = cart_summary(cart=cart_get(user=request.user))
    if summary.is_empty:
        messages.info(request, "Your cart is empty.")
        return redirect("cart:detail")
    form = CheckoutForm(
        request.POST or None,
        user=request.user,
        initial={
            "submit_token": secrets.token_urlsafe(24),
            "expected_total_minor": summary.total.amount_minor,
        },
    )
    if request.method == "POST" and form.is_valid():
        if summary.has_problems:
            messages.error(request, "Some items in your cart changed. Review them first.")
            return redirect("cart:detail")
        address = form.cleaned_data.get("saved_address")
        new_address = address is None
        if new_address:
            address = BuyerAddress(user=request.user, **form.address_values())
        try:
            checkout = checkout_place(
                buyer=request.user,
                address=address,
                payment_method=form.cleaned_data["card_number"],
                submit_token=form.cleaned_data["submit_token"],
                expected_total_minor=form.cleaned_data["expected_total_minor"],
            )
        except CheckoutInProgress as error:
            messages.warning(request, error.message)
            return _redirect_to_checkout(error.checkout)
        except PriceChanged as error:
            # The page again, with the new total to confirm (and the card to enter again).
            form = CheckoutForm(
                _with(request.POST, expected_total_minor=error.total_minor, card_number=""),
                user=request.user,
            )
            form.is_valid()
            form.errors.pop("card_number", None)  # left empty on purpose, not the shopper's slip
            form.add_error(None, error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            # Saved once the order is placed, and only by the submit that placed it (a second
            # submit of the same page gets the first one's checkout back: no second address).
            if new_address and form.cleaned_data["save_address"] and not checkout.replayed:
                buyer_address_create(user=request.user, **form.address_values())
            return _redirect_to_checkout(checkout)
    return render(
        request,
        "orders/checkout.html",
        {"form": form, "summary": summary, "test_cards": TEST_CARDS},
    )


def _with(data: QueryDict, **values) -> QueryDict:
    changed = data.copy()
    for name, value in values.items():
        changed[name] = str(value)
    return changed


def _redirect_to_checkout(checkout: Checkout):
    if checkout.status == CheckoutStatus.PAID:
        return redirect("checkout:done", checkout_id=checkout.id)
    return redirect("checkout:pay", checkout_id=checkout.id)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
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
            if error.code in {"payment_in_progress", "already_paid"}:
                # A second click while the first attempt runs: show where that one stands.
                return _redirect_to_checkout(checkout)
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
            "late_payment_refunded": checkout.status == CheckoutStatus.EXPIRED
            and Refund.objects.filter(
                order__checkout=checkout, reason=RefundReason.LATE_PAYMENT
            ).exists(),
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
