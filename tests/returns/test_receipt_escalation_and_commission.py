"""Commission given back line by line, the seller's time at receipt, a second escalation, the
evidence cap and the emails of automatic steps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.notifications.models import Notification
from orders.models import CategoryCommission, Order
from orders.services.checkout import checkout_place
from orders.services.fulfilment import PackageInput, order_ship
from orders.services.refunds import RefundLineInput, refund_issue
from orders.services.tracking import tracking_poll_due
from orders.services.transitions import order_transition
from returns.models import Party, RequestKind, ReturnEvidence, ReturnStatus
from returns.services.common import ReturnRefused
from returns.services.deadlines import returns_auto_approve, returns_auto_receive
from returns.services.disputes import return_escalate
from returns.services.evidence import MAX_FILES_PER_PARTY, evidence_check, evidence_record
from returns.services.shipping import return_parcel_moved, return_report_problem
from tests.orders.factories import BuyerAddressFactory, buyable_sku, cart_with
from tests.policies.factories import CategoryFactory
from tests.returns.factories import (
    balance_minor,
    delivered_order,
    demo_tracking_number,
    rejected_request,
    return_request,
    shipped_back,
)

pytestmark = pytest.mark.django_db


def _two_rate_order(seller) -> Order:
    """A delivered order of two $100.00 lines, one in a 5% category and one in a 15% one."""
    low, high = CategoryFactory(), CategoryFactory()
    now = timezone.now() - timedelta(days=1)
    CategoryCommission.objects.create(category=low, rate_bps=500, effective_from=now)
    CategoryCommission.objects.create(category=high, rate_bps=1500, effective_from=now)
    buyer = BuyerAddressFactory().user
    cart_with(
        buyer,
        (buyable_sku(seller=seller, price_minor=10_000, category=low), 1),
        (buyable_sku(seller=seller, price_minor=10_000, category=high), 1),
    )
    checkout_place(buyer=buyer, address=buyer.addresses.first(), payment_method="4242424242424242")
    order = Order.objects.filter(buyer=buyer).latest("id")
    order_transition(order=order, to_status="awaiting_shipment")
    order_ship(
        order_id=order.pk,
        seller=seller,
        actor=None,
        packages=[PackageInput(carrier="demo", tracking_number=demo_tracking_number(), lines=None)],
    )
    order.shipments.update(created_at=timezone.now() - timedelta(days=1))
    tracking_poll_due(now=timezone.now(), min_interval=timedelta(0))
    order.refresh_from_db()
    assert order.commission_minor == 2_000
    return order


def test_a_refunded_line_gives_back_its_own_commission_rate(seller):
    order = _two_rate_order(seller)
    high = order.lines.get(commission_bps=1500)
    commission = accounts.platform_commission_pending("USD")
    pending = accounts.seller_pending(seller.pk, "USD")
    commission_before, pending_before = balance_minor(commission), balance_minor(pending)

    refund_issue(
        order=order,
        lines=[RefundLineInput(order_line_id=high.pk, quantity=1, amount_minor=10_000)],
        idempotency_key="test:high-line",
        reason="return",
    )

    assert commission_before - balance_minor(commission) == 1_500  # 15%, not the 10% average
    assert pending_before - balance_minor(pending) == 8_500

    low = order.lines.get(commission_bps=500)
    refund_issue(
        order=order,
        lines=[RefundLineInput(order_line_id=low.pk, quantity=1, amount_minor=10_000)],
        idempotency_key="test:low-line",
        reason="return",
    )
    # The whole order refunded: exactly the order's commission came back, in two parts.
    assert commission_before - balance_minor(commission) == 2_000


def test_the_seller_reports_a_problem_only_once_the_return_arrived(seller):
    request = shipped_back(delivered_order(seller))
    with pytest.raises(ReturnRefused) as refused:
        return_report_problem(
            request_id=request.pk, seller=seller, actor=None, statement="Not here yet."
        )
    assert refused.value.code == "not_delivered_yet"
    request.refresh_from_db()
    assert request.status == ReturnStatus.BUYER_SHIPPED


def test_a_delivery_heard_of_late_still_leaves_the_seller_their_time(seller, settings):
    settings.RETURN_RECEIPT_CONFIRM_HOURS = 48
    request = shipped_back(delivered_order(seller))
    shipment = request.return_shipment
    shipment.status, shipment.delivered_at = "delivered", timezone.now() - timedelta(days=3)
    now = timezone.now()

    return_parcel_moved(shipment=shipment, now=now)

    request.refresh_from_db()
    assert request.return_delivered_at == shipment.delivered_at
    assert request.confirm_receipt_by == now + timedelta(hours=48)
    assert returns_auto_receive(now=now + timedelta(hours=47)) == []


def test_escalating_after_the_other_side_did_keeps_the_statement(seller):
    request = rejected_request(delivered_order(seller))
    return_escalate(
        request_id=request.pk,
        party=Party.BUYER,
        user=request.buyer,
        statement="It arrived broken.",
    )
    # The seller's page was older: its escalation lands on the open dispute as its statement.
    return_escalate(
        request_id=request.pk,
        party=Party.SELLER,
        user=None,
        seller=seller,
        statement="It left here whole; see the packing photos.",
    )
    request.refresh_from_db()
    assert request.dispute.buyer_statement == "It arrived broken."
    assert request.dispute.seller_statement == "It left here whole; see the packing photos."
    assert Notification.objects.filter(
        kind="return.dispute-statement.buyer", about=f"return:{request.pk}"
    ).exists()


def test_a_seller_cannot_escalate_without_naming_its_shop(seller):
    request = rejected_request(delivered_order(seller))
    with pytest.raises(Exception) as refused:
        return_escalate(
            request_id=request.pk, party=Party.SELLER, user=None, seller=None, statement="x"
        )
    assert getattr(refused.value, "code", "") == "return_not_found"


def test_each_side_attaches_a_bounded_number_of_files(seller, png_upload):
    request = return_request(delivered_order(seller))
    for _ in range(MAX_FILES_PER_PARTY // 6):
        checked = evidence_check([png_upload() for _ in range(6)], photos_only=True)
        stored = [(f"returns/test/{index}.png", item) for index, item in enumerate(checked)]
        evidence_record(
            request=request, stored=stored, party=Party.BUYER, stage="dispute", user=None
        )
    checked = evidence_check([png_upload()], photos_only=True)
    with pytest.raises(ReturnRefused) as refused:
        evidence_record(
            request=request,
            stored=[("returns/test/extra.png", checked[0])],
            party=Party.BUYER,
            stage="dispute",
            user=None,
        )
    assert refused.value.code == "too_many_files"
    assert ReturnEvidence.objects.filter(request=request).count() == MAX_FILES_PER_PARTY


def test_the_seller_hears_of_an_automatic_approval(seller):
    request = return_request(delivered_order(seller), kind=RequestKind.REFUND_ONLY)
    assert returns_auto_approve(now=request.respond_by + timedelta(seconds=1)) == [request.pk]
    assert Notification.objects.filter(
        kind="return.auto-approved.seller", about=f"return:{request.pk}"
    ).exists()


@pytest.fixture
def png_upload():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    def make():
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), "red").save(buffer, format="PNG")
        return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")

    return make
