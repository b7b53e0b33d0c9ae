"""The Shipping section of the Seller Center order page: {% ship_panel order %}."""

from django import template

from orders.carriers import carrier_get
from orders.models import OrderStatus, Shipment, ShipmentDirection
from orders.views.seller_center.fulfilment import ship_form_state

register = template.Library()


@register.inclusion_tag("orders/seller_center/_ship_panel.html")
def ship_panel(order):
    """The ship form for an order waiting for shipment, a note while it is on hold, and its
    packages once shipped (one query for the packages; none before shipment)."""
    context = {"order": order, "shipments": []}
    if order.status == OrderStatus.AWAITING_SHIPMENT:
        context.update(ship_form_state(order))
    elif order.status != OrderStatus.ON_HOLD:
        shipments = list(
            Shipment.objects.filter(
                order=order, seller_id=order.seller_id, direction=ShipmentDirection.OUTBOUND
            ).order_by("created_at", "id")
        )
        for shipment in shipments:
            carrier = carrier_get(shipment.carrier)
            shipment.carrier_name = carrier.name if carrier else shipment.carrier
        context["shipments"] = shipments
    return context
