"""The cancellation panels of the buyer's and the seller's order pages: what can be done now
(cancel, request, answer a request) and what happened (the request's state, the refund). The
rules come from orders.services.cancellations, so the page never offers what the service refuses.
"""

from django import template
from django.utils import timezone

from orders.models import CancellationReason, CancellationStatus
from orders.services.cancellations import (
    BUYER_REASONS,
    SELLER_REASONS,
    buyer_can_cancel_now,
    buyer_can_request,
    seller_can_cancel,
)

register = template.Library()


def _choices(values) -> list[tuple[str, str]]:
    return [(value, CancellationReason(value).label) for value in values]


def _latest(order):
    cancellation = order.cancellations.order_by("-created_at", "-id").first()
    refund = order.refunds.order_by("-created_at", "-id").first()
    return cancellation, refund


def _minutes_left(deadline, now) -> str:
    minutes = max(int((deadline - now).total_seconds() // 60), 0)
    if minutes >= 120:
        return f"{minutes // 60} h"
    if minutes >= 1:
        return f"{minutes} min"
    return "less than a minute"


@register.inclusion_tag("orders/_buyer_cancellation.html", takes_context=True)
def buyer_cancellation_panel(context, order):
    now = timezone.now()
    cancellation, refund = _latest(order)
    can_cancel = buyer_can_cancel_now(order, now=now)
    open_or_rejected = cancellation is not None and cancellation.status in (
        CancellationStatus.PENDING,
        CancellationStatus.REJECTED,
    )
    return {
        "csrf_token": context.get("csrf_token"),
        "order": order,
        "cancellation": cancellation,
        "refund": refund,
        "can_cancel": can_cancel,
        "time_left": _minutes_left(order.cancel_window_ends_at, now) if can_cancel else "",
        "can_request": buyer_can_request(order, now=now) and not open_or_rejected,
        "reasons": _choices(BUYER_REASONS),
    }


@register.inclusion_tag("orders/seller_center/_cancellation.html", takes_context=True)
def seller_cancellation_panel(context, order):
    cancellation, refund = _latest(order)
    pending = (
        cancellation
        if cancellation is not None and cancellation.status == CancellationStatus.PENDING
        else None
    )
    return {
        "csrf_token": context.get("csrf_token"),
        "order": order,
        "cancellation": cancellation,
        "pending": pending,
        "refund": refund,
        "can_cancel": seller_can_cancel(order),
        "reasons": _choices(SELLER_REASONS),
    }
