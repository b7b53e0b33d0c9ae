"""Order deadlines and completion (orders/services/deadlines.py): the missed ship-by cancellation,
the automatic completion after delivery, and the buyer's confirmation of receipt. Time is frozen by
passing `now`."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import IllegalTransition
from marketplace.state import transition
from orders import tasks
from orders.models import (
    CANCELLATION_MACHINE,
    ORDER_MACHINE,
    CancellationInitiator,
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
    OrderStatusEvent,
)
from orders.services.deadlines import (
    ReceiptNotConfirmable,
    order_confirm_receipt,
    order_has_open_after_sales,
    orders_auto_complete,
    orders_cancel_missed_ship_by,
)
from sellers.models import Violation
from tests.accounts.factories import UserFactory
from tests.orders.factories import order_in

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def events(order) -> list[tuple[str, str]]:
    return list(
        OrderStatusEvent.objects.filter(order=order)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


# --- Automatic completion ----------------------------------------------------------------------


def test_delivered_orders_complete_after_the_after_sales_days(settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 7
    due = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=7, minutes=1))
    recent = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=6, hours=23))
    in_transit = order_in(OrderStatus.IN_TRANSIT)

    assert orders_auto_complete(now=NOW) == [due.pk]

    due.refresh_from_db()
    assert due.status == OrderStatus.COMPLETED and due.completed_at == NOW
    assert events(due)[-1] == (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
    assert Order.objects.get(pk=recent.pk).status == OrderStatus.DELIVERED
    assert Order.objects.get(pk=in_transit.pk).status == OrderStatus.IN_TRANSIT


def test_auto_completion_is_idempotent(settings):
    due = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=30))
    assert orders_auto_complete(now=NOW) == [due.pk]
    before = events(due)

    assert orders_auto_complete(now=NOW) == []
    assert orders_auto_complete(now=NOW + timedelta(days=1)) == []
    assert events(due) == before


def test_the_days_are_a_setting(settings):
    settings.ORDER_AUTO_COMPLETE_DAYS = 2
    due = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=2, seconds=1))
    assert orders_auto_complete(now=NOW) == [due.pk]


def test_open_after_sales_holds_the_completion():
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=30))
    request = OrderCancellation.objects.create(
        order=order,
        initiated_by=CancellationInitiator.BUYER,
        reason=CancellationReason.CHANGED_MIND,
        status=CancellationStatus.PENDING,
    )
    assert order_has_open_after_sales(order)

    assert orders_auto_complete(now=NOW) == []
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED

    transition(CANCELLATION_MACHINE, instance=request, to_status=CancellationStatus.REJECTED)
    assert not order_has_open_after_sales(order)
    assert orders_auto_complete(now=NOW) == [order.pk]


# --- The buyer confirms receipt ----------------------------------------------------------------


def test_confirming_a_delivered_order_completes_it():
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW - timedelta(days=1))

    order_confirm_receipt(order_id=order.pk, buyer=order.buyer, now=NOW)

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED and order.completed_at == NOW
    last = OrderStatusEvent.objects.filter(order=order).latest("id")
    assert last.actor == order.buyer and last.to_status == OrderStatus.COMPLETED


def test_confirming_an_order_in_transit_delivers_then_completes_it():
    order = order_in(OrderStatus.IN_TRANSIT)

    order_confirm_receipt(order_id=order.pk, buyer=order.buyer, now=NOW)

    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.delivered_at == NOW and order.completed_at == NOW
    assert events(order)[-2:] == [
        (OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED),
        (OrderStatus.DELIVERED, OrderStatus.COMPLETED),
    ]


def test_confirming_twice_changes_nothing_the_second_time():
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW)
    order_confirm_receipt(order_id=order.pk, buyer=order.buyer, now=NOW)
    before = events(order)

    again = order_confirm_receipt(
        order_id=order.pk, buyer=order.buyer, now=NOW + timedelta(hours=1)
    )

    assert again.status == OrderStatus.COMPLETED and again.completed_at == NOW
    assert events(order) == before


@pytest.mark.parametrize(
    "status", [OrderStatus.ON_HOLD, OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION]
)
def test_an_order_not_shipped_cannot_be_confirmed(status):
    order = order_in(status)
    before = events(order)

    with pytest.raises(ReceiptNotConfirmable):
        order_confirm_receipt(order_id=order.pk, buyer=order.buyer, now=NOW)

    assert Order.objects.get(pk=order.pk).status == status
    assert events(order) == before


def test_another_buyer_cannot_confirm():
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW)
    with pytest.raises(ReceiptNotConfirmable):
        order_confirm_receipt(order_id=order.pk, buyer=UserFactory(), now=NOW)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED


def test_the_machine_refuses_completing_an_order_not_delivered():
    order = order_in(OrderStatus.IN_TRANSIT)
    with pytest.raises(IllegalTransition):
        transition(ORDER_MACHINE, instance=order, to_status=OrderStatus.COMPLETED)


def test_the_buyer_confirms_on_the_order_page(client):
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW)
    client.force_login(order.buyer)
    page = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "I received this order" in page
    assert reverse("orders:confirm_receipt", args=[order.pk]) in page

    response = client.post(reverse("orders:confirm_receipt", args=[order.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("orders:detail", args=[order.pk])
    html = response.content.decode()
    assert f"order {order.number} is complete" in html
    assert "I received this order" not in html
    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED


def test_another_buyers_confirmation_is_a_404(client):
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW)
    client.force_login(UserFactory())

    response = client.post(reverse("orders:confirm_receipt", args=[order.pk]))

    assert response.status_code == 404
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED


def test_confirming_too_early_is_a_message(client):
    order = order_in(OrderStatus.AWAITING_SHIPMENT)
    client.force_login(order.buyer)

    response = client.post(reverse("orders:confirm_receipt", args=[order.pk]), follow=True)

    assert "once the order is on its way" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AWAITING_SHIPMENT


def test_confirm_receipt_answers_only_post(client):
    order = order_in(OrderStatus.DELIVERED, delivered_at=NOW)
    client.force_login(order.buyer)
    assert client.get(reverse("orders:confirm_receipt", args=[order.pk])).status_code == 405


def test_the_buyer_sees_the_deadlines(client):
    order = order_in(
        OrderStatus.AWAITING_SHIPMENT,
        ship_by=timezone.now() + timedelta(hours=5, minutes=30),
        deliver_by=timezone.now() + timedelta(days=6, hours=1),
    )
    client.force_login(order.buyer)
    html = client.get(reverse("orders:detail", args=[order.pk])).content.decode()
    assert "Ship by" in html and "5 h left" in html
    assert "Deliver by" in html and "6 d left" in html


# --- Missed ship-by ----------------------------------------------------------------------------


cancellations = pytest.importorskip("orders.services.cancellations")


def test_an_order_not_shipped_in_time_is_cancelled_with_a_violation():
    late = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=NOW - timedelta(minutes=1))
    on_time = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=NOW + timedelta(minutes=1))
    collected = order_in(OrderStatus.AWAITING_COLLECTION, ship_by=NOW - timedelta(hours=1))

    assert orders_cancel_missed_ship_by(now=NOW) == [late.pk]

    late.refresh_from_db()
    assert late.status == OrderStatus.CANCELLED
    cancellation = OrderCancellation.objects.get(order=late)
    assert cancellation.initiated_by == CancellationInitiator.SYSTEM
    assert cancellation.reason == CancellationReason.SHIP_BY_MISSED
    violation = Violation.objects.get(seller=late.seller)
    assert violation.kind == Violation.Kind.LATE_SHIPMENT
    assert violation.rule == f"order:{late.pk}:ship_by_missed"
    assert late.number in violation.reason
    assert Order.objects.get(pk=on_time.pk).status == OrderStatus.AWAITING_SHIPMENT
    assert Order.objects.get(pk=collected.pk).status == OrderStatus.AWAITING_COLLECTION
    assert not Violation.objects.filter(seller__in=[on_time.seller, collected.seller]).exists()


def test_the_missed_ship_by_job_is_idempotent():
    late = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=NOW - timedelta(hours=2))
    assert orders_cancel_missed_ship_by(now=NOW) == [late.pk]
    before = events(late)

    assert orders_cancel_missed_ship_by(now=NOW) == []
    assert orders_cancel_missed_ship_by(now=NOW + timedelta(days=1)) == []

    assert events(late) == before
    assert OrderCancellation.objects.filter(order=late).count() == 1
    assert Violation.objects.filter(seller=late.seller).count() == 1


def test_one_order_failing_does_not_hold_back_the_others(monkeypatch):
    first = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=NOW - timedelta(hours=2))
    second = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=NOW - timedelta(hours=1))
    real_cancel = cancellations.order_cancel

    def cancel(*, order_id, **kwargs):
        if order_id == first.pk:
            raise IllegalTransition("changed meanwhile")
        return real_cancel(order_id=order_id, **kwargs)

    monkeypatch.setattr(cancellations, "order_cancel", cancel)

    assert orders_cancel_missed_ship_by(now=NOW) == [second.pk]
    assert Order.objects.get(pk=first.pk).status == OrderStatus.AWAITING_SHIPMENT
    assert not Violation.objects.filter(seller=first.seller).exists()
    assert Order.objects.get(pk=second.pk).status == OrderStatus.CANCELLED


# --- The jobs ----------------------------------------------------------------------------------


def test_both_jobs_are_scheduled_and_run_their_service(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"orders.tasks.cancel_missed_ship_by", "orders.tasks.auto_complete_orders"} <= scheduled
    late = order_in(OrderStatus.AWAITING_SHIPMENT, ship_by=timezone.now() - timedelta(minutes=1))
    done = order_in(OrderStatus.DELIVERED, delivered_at=timezone.now() - timedelta(days=8))

    assert tasks.cancel_missed_ship_by.delay().get() == 1
    assert tasks.auto_complete_orders.delay().get() == 1

    assert Order.objects.get(pk=late.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=done.pk).status == OrderStatus.COMPLETED
