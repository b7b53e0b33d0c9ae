from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.services import ledger_balance
from orders.models import Refund, ShipmentStatus
from orders.services.tracking import tracking_poll_due
from returns.models import RequestKind, ReturnStatus
from returns.services.requests import return_approve, return_offer_accept, return_offer_partial
from returns.services.shipping import return_confirm_receipt, return_ship_back
from tests.returns.factories import delivered_order, demo_tracking_number, return_request

pytestmark = pytest.mark.django_db


def test_return_flow(seller):
    order = delivered_order(seller, (2500, 2))
    pending_before = ledger_balance(accounts.seller_pending(seller.pk, "USD"))
    line = order.lines.get()
    request = return_request(order, quantities={line.pk: 1})
    assert request.requested_amount_minor == 2500
    return_approve(request_id=request.pk, seller=seller)
    request.refresh_from_db()
    assert request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    return_ship_back(
        request_id=request.pk,
        buyer=order.buyer,
        carrier="demo",
        tracking_number=demo_tracking_number(),
    )
    request.refresh_from_db()
    request.return_shipment.__class__.objects.filter(pk=request.return_shipment_id).update(
        created_at=timezone.now() - timedelta(days=1)
    )
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    request.refresh_from_db()
    assert request.return_shipment.status == ShipmentStatus.DELIVERED
    assert request.confirm_receipt_by
    order.refresh_from_db()
    assert order.status == "delivered"
    return_confirm_receipt(request_id=request.pk, seller=seller)
    request.refresh_from_db()
    assert request.status == ReturnStatus.REFUNDED
    assert request.refund.amount_minor == 2500
    pending_after = ledger_balance(accounts.seller_pending(seller.pk, "USD"))
    assert (pending_before - pending_after).amount_minor == 2500 - 50
    # partial offer on the other unit
    r2 = return_request(order, kind=RequestKind.REFUND_ONLY, quantities={line.pk: 1})
    return_offer_partial(request_id=r2.pk, seller=seller, actor=None, amount_minor=1000)
    return_offer_accept(request_id=r2.pk, buyer=order.buyer)
    return_offer_accept(request_id=r2.pk, buyer=order.buyer)
    r2.refresh_from_db()
    assert r2.status == ReturnStatus.REFUNDED
    assert Refund.objects.filter(order=order).count() == 2
