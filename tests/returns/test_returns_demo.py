"""The demo returns: the demo shopper's requests in every state a person sees, most at the demo
seller's shop, one open dispute for the admin's queue, realistic deadlines; seeding twice adds
nothing."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import RefundStatus, ShipmentStatus
from returns.demo import demo_steps
from returns.models import (
    Dispute,
    DisputeStatus,
    RequestKind,
    ReturnEvidence,
    ReturnRequest,
    ReturnStatus,
)
from returns.selectors import SELLER_RETURN_TABS, seller_return_tab_counts
from returns.services.deadlines import returns_run_deadlines

pytestmark = pytest.mark.django_db

# Passed through within one step: approving moves on at once, an accepted offer and a confirmed
# receipt are refunded in the same transaction.
TRANSIENT = {ReturnStatus.APPROVED, ReturnStatus.ACCEPTED, ReturnStatus.RECEIVED}


def test_the_demo_has_a_request_in_every_state_and_one_dispute_and_seeds_once():
    call_command("seed_demo", stdout=io.StringIO())
    now = timezone.now()
    requests = ReturnRequest.objects.filter(buyer__email="shopper@demo.test")

    assert set(requests.values_list("status", flat=True)) == set(ReturnStatus.values) - TRANSIENT
    open_disputes = Dispute.objects.filter(status=DisputeStatus.OPEN)
    assert open_disputes.count() == 1
    dispute = open_disputes.get()
    assert dispute.opened_by == "buyer" and dispute.buyer_statement
    assert dispute.request.seller.slug == "sofias-studio"
    # Most at the demo seller's shop, at least one elsewhere.
    sofias = requests.filter(seller__slug="sofias-studio")
    assert sofias.count() > requests.count() / 2
    assert requests.exclude(seller__slug="sofias-studio").exists()
    # So every tab of the demo seller's Returns section has something in it.
    counts = seller_return_tab_counts(seller=sofias.first().seller, search="")
    assert all(counts[tab.key] for tab in SELLER_RETURN_TABS), counts
    # The new refund-only request carries the shopper's photo.
    new = requests.get(status=ReturnStatus.REQUESTED)
    assert new.kind == RequestKind.REFUND_ONLY
    assert ReturnEvidence.objects.filter(request=new, content_type="image/png").exists()
    assert new.seller.slug == "sofias-studio"
    # Two returns on their way back: one with the carrier, one delivered and waiting for the shop.
    shipped = requests.filter(status=ReturnStatus.BUYER_SHIPPED)
    parcels = {r.return_shipment.status: r for r in shipped}
    assert set(parcels) == {ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED}
    assert parcels[ShipmentStatus.DELIVERED].confirm_receipt_by > now
    assert parcels[ShipmentStatus.IN_TRANSIT].confirm_receipt_by is None
    # Refunded both ways (refund only, and after the parcel came back), the money paid out.
    refunded = requests.filter(status=ReturnStatus.REFUNDED)
    assert {r.kind for r in refunded} == set(RequestKind.values)
    assert all(r.refund.status == RefundStatus.SUCCEEDED for r in refunded)
    returned = refunded.get(kind=RequestKind.RETURN_AND_REFUND)
    assert returned.status_events.filter(to_status=ReturnStatus.RECEIVED).exists()
    assert returned.return_shipment.status == ShipmentStatus.DELIVERED
    assert requests.get(status=ReturnStatus.REJECTED).reject_reason
    # Deadlines in the recent past or the future: the deadline jobs, run now, move nothing.
    assert all(r.created_at > now - timedelta(days=15) for r in requests)
    assert requests.get(status=ReturnStatus.REQUESTED).respond_by > now
    assert requests.get(status=ReturnStatus.PARTIAL_REFUND_OFFERED).offer_expires_at > now
    assert requests.get(status=ReturnStatus.AWAITING_BUYER_SHIPMENT).ship_back_by > now
    assert requests.get(status=ReturnStatus.DECLINED).escalate_by > now
    statuses = dict(requests.values_list("pk", "status"))

    for _name, step in demo_steps():
        step()
    call_command("seed_demo", stdout=io.StringIO())

    assert dict(requests.values_list("pk", "status")) == statuses
    assert Dispute.objects.count() == 1
    assert set(returns_run_deadlines(now=timezone.now()).values()) == {0}
