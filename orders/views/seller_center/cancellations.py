"""Seller Center: cancelling an order before the carrier collects it, and answering a buyer's
cancellation request (orders.services.cancellations). The forms sit on the order's page
(orders/templates/orders/seller_center/_cancellation.html); each view reads the order through
`seller_order_get(seller=request.seller)`, so another seller's order or request answers 404.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from marketplace.errors import DomainError
from orders.models import CancellationInitiator
from orders.selectors import seller_order_get
from orders.services.cancellations import (
    cancellation_approve,
    cancellation_reject,
    order_cancel,
)
from sellers.access import seller_center_view
from sellers.roles import Section


def _posted_text(request, name: str, limit: int = 1000) -> str:
    return request.POST.get(name, "").replace("\x00", "").strip()[:limit]


def _back(order):
    return redirect("seller_orders:detail", order_id=order.pk)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_POST
def cancel(request, order_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    try:
        order_cancel(
            order_id=order.pk,
            initiated_by=CancellationInitiator.SELLER,
            reason=_posted_text(request, "reason", 30),
            note=_posted_text(request, "note"),
            actor=request.user,
            seller=request.seller,
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Order {order.number} is cancelled: the buyer is refunded in full and the items are "
            "back in stock. Do not ship it.",
        )
    return _back(order)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_POST
def cancellation_approve_view(request, order_id: int, cancellation_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    get_object_or_404(order.cancellations.all(), pk=cancellation_id)
    try:
        cancellation_approve(
            cancellation_id=cancellation_id, seller=request.seller, actor=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, f"Request approved: order {order.number} is cancelled and refunded."
        )
    return _back(order)


@seller_center_view(Section.ORDERS, require_approved=True)
@require_POST
def cancellation_reject_view(request, order_id: int, cancellation_id: int):
    order = seller_order_get(seller=request.seller, order_id=order_id)
    get_object_or_404(order.cancellations.all(), pk=cancellation_id)
    try:
        cancellation_reject(
            cancellation_id=cancellation_id,
            seller=request.seller,
            actor=request.user,
            reason_text=_posted_text(request, "reject_reason"),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Request declined: the buyer is told why. Ship the order.")
    return _back(order)
