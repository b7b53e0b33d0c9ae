"""The returns part of the buyer's order page (orders/templates/orders/order_detail.html):
the return window, the "Return or refund" button when a request can be made now, and the order's
requests with their status. orders sits below returns, so its page loads this library instead of
importing returns; the rules come from returns.services.requests, so the page never offers what
the service refuses."""

from django import template
from django.utils import timezone

from returns.models import BUYER_STATUS_LABELS, ReturnRequest, ReturnStatus
from returns.services.requests import (
    order_accepts_requests,
    order_returnable_lines,
    return_window_ends_at,
)

register = template.Library()


@register.inclusion_tag("returns/_order_returns.html")
def buyer_order_returns(order):
    ends_at = return_window_ends_at(order)
    if ends_at is None:  # not delivered: nothing to say yet
        return {"order": order, "window_ends_at": None}
    accepts = order_accepts_requests(order, now=timezone.now())
    return {
        "order": order,
        "window_ends_at": ends_at,
        "window_open": accepts,
        "can_ask": accepts and any(item.units for item in order_returnable_lines(order)),
        "requests": list(
            ReturnRequest.objects.filter(order=order, buyer_id=order.buyer_id).order_by(
                "-created_at", "-id"
            )
        ),
    }


_BADGES = {
    ReturnStatus.REFUNDED: "badge-success",
    ReturnStatus.REJECTED: "badge-warning",
    ReturnStatus.DECLINED: "badge-warning",
    ReturnStatus.WITHDRAWN: "",
    ReturnStatus.CLOSED: "",
}


@register.filter
def return_badge(status: str) -> str:
    """The badge colour of a request's status: {{ request.status|return_badge }}."""
    return _BADGES.get(status, "badge-info")


@register.filter
def return_buyer_status(status: str) -> str:
    """A request status in the buyer's words (returns.models.BUYER_STATUS_LABELS)."""
    return BUYER_STATUS_LABELS.get(status, status)
