from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError
from marketplace.money import Money
from orders.selectors import buyer_order_get, buyer_orders
from orders.services.cancellations import (
    cancellation_request,
    cancellation_withdraw,
    order_cancel,
)
from orders.services.deadlines import order_confirm_receipt


@login_required
def order_list(request):
    page = Paginator(buyer_orders(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "orders/order_list.html", {"page_obj": page, "orders": page.object_list})


@login_required
def order_detail(request, order_id: int):
    order = buyer_order_get(user=request.user, order_id=order_id)
    return render(request, "orders/order_detail.html", {"order": order})


@login_required
@require_POST
def order_confirm_receipt_view(request, order_id: int):
    """The buyer's "I received it" button: the order completes (orders.services.deadlines)."""
    order = buyer_order_get(user=request.user, order_id=order_id)  # another buyer's: 404
    try:
        order_confirm_receipt(order_id=order.pk, buyer=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Thanks: order {order.number} is complete.")
    return redirect("orders:detail", order_id=order.pk)


# --- Cancellations (orders.services.cancellations) ---------------------------------------------


def _posted_text(request, name: str, limit: int = 1000) -> str:
    return request.POST.get(name, "").replace("\x00", "").strip()[:limit]


@login_required
@require_POST
def order_cancel_view(request, order_id: int):
    """The "Cancel order" button inside the free window: cancelled and refunded at once."""
    order = buyer_order_get(user=request.user, order_id=order_id)  # another buyer's: 404
    try:
        cancellation = order_cancel(
            order_id=order.pk,
            initiated_by="buyer",
            reason=_posted_text(request, "reason", 30),
            note=_posted_text(request, "note"),
            actor=request.user,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        refund = cancellation.refund
        messages.success(
            request,
            f"Order {order.number} is cancelled. We are refunding "
            f"{Money(refund.amount_minor, refund.currency)} to your card.",
        )
    return redirect("orders:detail", order_id=order.pk)


@login_required
@require_POST
def cancellation_request_view(request, order_id: int):
    """The "Request cancellation" form after the free window: the seller answers."""
    order = buyer_order_get(user=request.user, order_id=order_id)
    try:
        cancellation = cancellation_request(
            order_id=order.pk,
            buyer=request.user,
            reason=_posted_text(request, "reason", 30),
            note=_posted_text(request, "note"),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Your request was sent to {order.seller.shop_name}. They answer by "
            f"{timezone.localtime(cancellation.respond_by):%b %d, %H:%M %Z}; without an answer by "
            "then the order is cancelled and refunded.",
        )
    return redirect("orders:detail", order_id=order.pk)


@login_required
@require_POST
def cancellation_withdraw_view(request, order_id: int, cancellation_id: int):
    order = buyer_order_get(user=request.user, order_id=order_id)
    get_object_or_404(order.cancellations.all(), pk=cancellation_id)
    try:
        cancellation_withdraw(cancellation_id=cancellation_id, buyer=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your cancellation request is withdrawn; the order goes ahead.")
    return redirect("orders:detail", order_id=order.pk)
