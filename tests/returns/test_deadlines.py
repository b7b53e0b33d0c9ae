"""The returns deadline jobs (returns.services.deadlines), with time passed as `now`: before a
deadline nothing moves, after it the request moves once through the same service a person uses,
and a second run changes nothing more. Then the Celery task on a real worker process."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.models import SKU
from marketplace import celery_app
from marketplace.models import JobHeartbeat
from marketplace.notifications.models import Notification
from marketplace.tasks import record_job_heartbeat
from orders.models import Refund
from returns.models import RequestKind, ReturnRequest, ReturnStatus, ReturnStatusEvent
from returns.services.deadlines import (
    returns_auto_approve,
    returns_auto_receive,
    returns_close_unanswered_offers,
    returns_close_unshipped,
    returns_escalate_lost_parcels,
    returns_run_deadlines,
)
from returns.services.requests import return_reject
from returns.tasks import run_return_deadlines
from tests.celery_worker import celery_worker_process
from tests.returns.factories import (
    awaiting_shipment,
    delivered_order,
    offered_request,
    return_parcel_delivered,
    return_request,
    shipped_back,
)

SECOND = timedelta(seconds=1)


def reload(request) -> ReturnRequest:
    request.refresh_from_db()
    return request


def events() -> int:
    return ReturnStatusEvent.objects.count()


def held(request) -> list[bool]:
    return list(request.lines.values_list("holds_line", flat=True))


@pytest.mark.django_db
class TestAutoApprove:
    def test_a_refund_only_the_seller_did_not_answer_is_refunded_after_respond_by(self, seller):
        order = delivered_order(seller, (2500, 2))
        request = return_request(order, kind=RequestKind.REFUND_ONLY)

        assert returns_auto_approve(now=request.respond_by - SECOND) == []
        assert reload(request).status == ReturnStatus.REQUESTED

        assert returns_auto_approve(now=request.respond_by) == [request.pk]

        request = reload(request)
        assert request.status == ReturnStatus.REFUNDED
        assert request.refund.amount_minor == 5000
        approval = ReturnStatusEvent.objects.get(request=request, to_status=ReturnStatus.APPROVED)
        assert approval.actor is None
        assert "automatically" in approval.message
        assert held(request) == [False]

    def test_a_return_the_seller_did_not_answer_waits_for_the_buyers_parcel(self, seller):
        order = delivered_order(seller)
        request = return_request(order)
        now = request.respond_by + timedelta(minutes=5)

        assert returns_auto_approve(now=now) == [request.pk]

        request = reload(request)
        assert request.status == ReturnStatus.AWAITING_BUYER_SHIPMENT
        assert request.ship_back_by == now + timedelta(days=7)
        assert not Refund.objects.exists()

    def test_running_twice_changes_nothing_more(self, seller):
        order = delivered_order(seller)
        request = return_request(order, kind=RequestKind.REFUND_ONLY)
        later = request.respond_by + SECOND
        returns_auto_approve(now=later)
        before = (events(), Refund.objects.count(), Notification.objects.count())

        assert returns_auto_approve(now=later) == []
        assert returns_auto_approve(now=later + timedelta(days=30)) == []

        assert (events(), Refund.objects.count(), Notification.objects.count()) == before

    def test_a_request_the_seller_answered_is_left_alone(self, seller):
        order = delivered_order(seller)
        request = return_request(order)
        return_reject(request_id=request.pk, seller=seller, actor=None, reason_text="Used.")

        assert returns_auto_approve(now=request.respond_by + SECOND) == []
        assert reload(request).status == ReturnStatus.REJECTED


@pytest.mark.django_db
class TestCloseUnansweredOffers:
    def test_an_offer_not_answered_by_offer_expires_at_closes(self, seller):
        order = delivered_order(seller)
        request = offered_request(order, amount_minor=900)

        assert returns_close_unanswered_offers(now=request.offer_expires_at - SECOND) == []
        assert reload(request).status == ReturnStatus.PARTIAL_REFUND_OFFERED

        assert returns_close_unanswered_offers(now=request.offer_expires_at) == [request.pk]

        request = reload(request)
        assert request.status == ReturnStatus.CLOSED
        assert request.close_reason == "The partial refund offer was not answered in time."
        assert held(request) == [False]
        assert not Refund.objects.exists()
        notice = Notification.objects.get(kind="return.closed.buyer")
        assert notice.recipient == order.buyer

        before = events()
        assert returns_close_unanswered_offers(now=request.offer_expires_at + SECOND) == []
        assert events() == before


@pytest.mark.django_db
class TestCloseUnshipped:
    def test_a_return_not_shipped_back_by_ship_back_by_closes(self, seller):
        order = delivered_order(seller)
        request = awaiting_shipment(order)

        assert returns_close_unshipped(now=request.ship_back_by - SECOND) == []
        assert reload(request).status == ReturnStatus.AWAITING_BUYER_SHIPMENT

        assert returns_close_unshipped(now=request.ship_back_by) == [request.pk]

        request = reload(request)
        assert request.status == ReturnStatus.CLOSED
        assert request.close_reason == "The item was not sent back in time."
        assert held(request) == [False]
        assert not Refund.objects.exists()

        before = events()
        assert returns_close_unshipped(now=request.ship_back_by + timedelta(days=1)) == []
        assert events() == before

    def test_a_return_shipped_in_time_is_left_alone(self, seller):
        order = delivered_order(seller)
        request = shipped_back(order)

        assert returns_close_unshipped(now=timezone.now() + timedelta(days=30)) == []
        assert reload(request).status == ReturnStatus.BUYER_SHIPPED


@pytest.mark.django_db
class TestAutoReceive:
    def test_a_delivered_return_not_confirmed_in_time_is_refunded_without_restocking(self, seller):
        order = delivered_order(seller, (2500, 2))
        line = order.lines.get()
        stock = SKU.objects.get(pk=line.sku_id).stock_on_hand
        request = return_parcel_delivered(shipped_back(order))

        assert returns_auto_receive(now=request.confirm_receipt_by - SECOND) == []
        assert reload(request).status == ReturnStatus.BUYER_SHIPPED

        assert returns_auto_receive(now=request.confirm_receipt_by) == [request.pk]

        request = reload(request)
        assert request.status == ReturnStatus.REFUNDED
        assert request.refund.amount_minor == 5000
        # Nobody looked at what came back: nothing goes back in stock.
        assert SKU.objects.get(pk=line.sku_id).stock_on_hand == stock
        assert list(request.lines.values_list("restocked_quantity", flat=True)) == [0]
        received = ReturnStatusEvent.objects.get(request=request, to_status=ReturnStatus.RECEIVED)
        assert received.actor is None and "automatically" in received.message

        before = (events(), Refund.objects.count())
        assert returns_auto_receive(now=request.confirm_receipt_by + timedelta(days=3)) == []
        assert (events(), Refund.objects.count()) == before

    def test_a_return_parcel_still_travelling_is_not_refunded(self, seller):
        order = delivered_order(seller)
        request = shipped_back(order)  # not delivered yet: no confirm_receipt_by

        assert returns_auto_receive(now=timezone.now() + timedelta(days=30)) == []
        assert reload(request).status == ReturnStatus.BUYER_SHIPPED


@pytest.mark.django_db
def test_every_job_runs_once_from_one_entry_point(seller):
    now = timezone.now()
    unanswered = return_request(delivered_order(seller), kind=RequestKind.REFUND_ONLY, now=now)
    offer = offered_request(delivered_order(seller), amount_minor=900, now=now)
    unshipped = awaiting_shipment(delivered_order(seller), now=now)
    delivered = return_parcel_delivered(shipped_back(delivered_order(seller), now=now))
    later = now + timedelta(days=8)

    assert returns_run_deadlines(now=later) == {
        "approved": 1,
        "offers_closed": 1,
        "unshipped_closed": 1,
        "refunded": 1,
        "lost_parcels_escalated": 0,
    }
    assert returns_run_deadlines(now=later) == {
        "approved": 0,
        "offers_closed": 0,
        "unshipped_closed": 0,
        "refunded": 0,
        "lost_parcels_escalated": 0,
    }
    assert [reload(r).status for r in (unanswered, offer, unshipped, delivered)] == [
        ReturnStatus.REFUNDED,
        ReturnStatus.CLOSED,
        ReturnStatus.CLOSED,
        ReturnStatus.REFUNDED,
    ]
    assert Refund.objects.count() == 2


@pytest.mark.django_db
class TestLostReturnParcels:
    """A return parcel the carrier never delivers goes to the marketplace, once."""

    def test_escalated_after_the_limit_and_not_before(self, seller, settings):
        settings.RETURN_PARCEL_LOST_DAYS = 21
        sent = timezone.now() - timedelta(days=30)
        request = shipped_back(delivered_order(seller), now=sent)
        limit = request.return_shipment.created_at + timedelta(days=21)

        assert returns_escalate_lost_parcels(now=limit - SECOND) == []
        assert returns_escalate_lost_parcels(now=limit) == [request.pk]
        request = reload(request)
        assert request.status == ReturnStatus.IN_DISPUTE
        assert request.dispute.opened_by == "staff"
        assert request.dispute.opened_by_user is None
        assert held(request) == [True]
        told = set(
            Notification.objects.filter(kind__startswith="return.dispute-opened").values_list(
                "kind", flat=True
            )
        )
        assert told == {"return.dispute-opened.buyer", "return.dispute-opened.seller"}
        assert returns_escalate_lost_parcels(now=limit + timedelta(days=1)) == []

    def test_a_delivered_return_parcel_is_not_escalated(self, seller):
        request = return_parcel_delivered(
            shipped_back(delivered_order(seller), now=timezone.now() - timedelta(days=30))
        )
        assert returns_escalate_lost_parcels(now=timezone.now()) == []
        assert reload(request).status == ReturnStatus.BUYER_SHIPPED


# --- On a real worker ----------------------------------------------------------------------------


def wait_for(condition, *, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_deadline_task_on_a_real_worker_approves_an_unanswered_request_once(seller):
    order = delivered_order(seller, (2500, 1))
    request = return_request(order, kind=RequestKind.REFUND_ONLY)
    ReturnRequest.objects.filter(pk=request.pk).update(
        respond_by=timezone.now() - timedelta(minutes=1)
    )
    marker = f"returns-test-marker-{uuid.uuid4().hex[:8]}"

    with celery_worker_process() as queue:
        celery_app.conf.task_always_eager = False  # send it to the broker, not inline
        try:
            run_return_deadlines.apply_async(queue=queue)
            assert wait_for(lambda: reload(request).status == ReturnStatus.REFUNDED), (
                "the worker did not refund the request within 60 s"
            )
            audit_rows = ReturnStatusEvent.objects.filter(request=request).count()
            # Again, then a marker: one solo worker takes them in order, so once the marker ran,
            # the second run has finished.
            run_return_deadlines.apply_async(queue=queue)
            record_job_heartbeat.apply_async(args=[marker], queue=queue)
        finally:
            celery_app.conf.task_always_eager = True
        assert wait_for(lambda: JobHeartbeat.objects.filter(name=marker).exists())

    assert Refund.objects.filter(order=order).count() == 1
    assert Refund.objects.get(order=order).amount_minor == 2500
    assert ReturnStatusEvent.objects.filter(request=request).count() == audit_rows == 2
