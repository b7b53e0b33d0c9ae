"""Tracking: the demo carrier's schedule, events recorded once, parcels and orders moved by them,
the buyer told and shown, and the tracking job claiming each parcel for one run."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace import celery_app
from marketplace.models import JobHeartbeat
from marketplace.notifications.models import Notification
from marketplace.state import transition
from marketplace.tasks import record_job_heartbeat
from orders.carriers import TrackingUpdate, carrier_adapter, webhook
from orders.models import (
    ORDER_MACHINE,
    Order,
    OrderStatus,
    OrderStatusEvent,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from orders.services.tracking import tracking_events_record, tracking_poll_due
from orders.tasks import poll_tracking
from tests.celery_worker import celery_worker_process
from tests.markers import needs_postgres
from tests.orders.tracking_helpers import demo_tracking_number, shipped_order

pytestmark = pytest.mark.django_db

SHIPPED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
STEP = timedelta(minutes=30)


def update(kind: str, minutes: int, external_id: str | None = None) -> TrackingUpdate:
    return TrackingUpdate(
        kind=kind,
        occurred_at=SHIPPED + timedelta(minutes=minutes),
        external_id=external_id or f"ev-{kind}-{minutes}",
        description=f"{kind} event",
    )


def kinds(shipment: Shipment) -> list[str]:
    return list(shipment.events.order_by("occurred_at", "id").values_list("kind", flat=True))


# --- The demo carrier ---------------------------------------------------------------------------


def test_the_demo_carrier_reports_each_step_once_it_is_due(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 30
    order = shipped_order(shipped_at=SHIPPED)
    number = order.shipments.get().tracking_number
    adapter = carrier_adapter("demo")

    def due_at(minutes: int) -> list[str]:
        answer = adapter.poll(tracking_numbers=[number], now=SHIPPED + timedelta(minutes=minutes))
        return [u.kind for u in answer[number]]

    assert due_at(0) == ["label_created"]
    assert due_at(29) == ["label_created"]
    assert due_at(30) == ["label_created", "collected"]
    assert due_at(60) == ["label_created", "collected", "in_transit"]
    assert due_at(90)[-1] == "out_for_delivery"
    assert due_at(120) == [
        "label_created",
        "collected",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    answer = adapter.poll(tracking_numbers=[number], now=SHIPPED + timedelta(days=3))[number]
    assert [u.external_id for u in answer][-1] == f"{number}:delivered"
    assert answer[-1].occurred_at == SHIPPED + 4 * STEP


def test_the_demo_carrier_follows_the_step_setting_and_knows_nothing_of_other_numbers(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 1
    order = shipped_order(shipped_at=SHIPPED)
    number = order.shipments.get().tracking_number
    answer = carrier_adapter("demo").poll(
        tracking_numbers=[number, "DP9999999999"], now=SHIPPED + timedelta(minutes=2)
    )
    assert [u.kind for u in answer[number]] == ["label_created", "collected", "in_transit"]
    assert answer["DP9999999999"] == []


def test_a_demo_number_ending_in_13_has_a_delivery_problem_then_arrives(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 30
    number = demo_tracking_number("13")
    shipped_order(shipped_at=SHIPPED, tracking_numbers=[number])
    adapter = carrier_adapter("demo")
    at_problem = adapter.poll(tracking_numbers=[number], now=SHIPPED + 3 * STEP)[number]
    assert at_problem[-1].kind == "exception"
    shipment = Shipment.objects.get(tracking_number=number)
    tracking_events_record(shipment=shipment, updates=at_problem)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.EXCEPTION
    tracking_events_record(
        shipment=shipment,
        updates=adapter.poll(tracking_numbers=[number], now=SHIPPED + 5 * STEP)[number],
    )
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert kinds(shipment)[-3:] == ["exception", "out_for_delivery", "delivered"]


# --- Recording ----------------------------------------------------------------------------------


def test_recording_the_same_updates_twice_changes_nothing_the_second_time(
    django_capture_on_commit_callbacks, mailoutbox
):
    order = shipped_order(shipped_at=SHIPPED)
    shipment = order.shipments.get()
    updates = [update("label_created", 0), update("collected", 30), update("in_transit", 60)]
    with django_capture_on_commit_callbacks(execute=True):
        assert tracking_events_record(shipment=shipment, updates=updates) == 3
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    assert order.status == OrderStatus.IN_TRANSIT
    audit_rows = OrderStatusEvent.objects.filter(order=order).count()
    notifications = Notification.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        assert tracking_events_record(shipment=shipment, updates=updates) == 0
        # The same updates in another order, and an event repeated within one call.
        assert tracking_events_record(shipment=shipment, updates=[*updates[::-1], updates[0]]) == 0
    assert TrackingEvent.objects.filter(shipment=shipment).count() == 3
    assert OrderStatusEvent.objects.filter(order=order).count() == audit_rows
    assert Notification.objects.count() == notifications
    assert [m.subject for m in mailoutbox if "on its way" in m.subject] == [
        f"Your order {order.number} is on its way"
    ]


def test_the_parcel_takes_the_status_of_its_latest_event_not_of_the_last_one_reported():
    order = shipped_order(shipped_at=SHIPPED)
    shipment = order.shipments.get()
    tracking_events_record(
        shipment=shipment, updates=[update("out_for_delivery", 90), update("collected", 30)]
    )
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    # A late event from before now changes the history, not the status.
    tracking_events_record(shipment=shipment, updates=[update("in_transit", 60)])
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert kinds(shipment) == ["collected", "in_transit", "out_for_delivery"]


def test_a_label_alone_leaves_the_order_awaiting_collection():
    order = shipped_order(shipped_at=SHIPPED)
    assert (
        tracking_events_record(shipment=order.shipments.get(), updates=[update("label_created", 0)])
        == 1
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_COLLECTION


def test_an_order_is_delivered_only_when_every_package_is(
    django_capture_on_commit_callbacks, mailoutbox
):
    order = shipped_order(packages=2, shipped_at=SHIPPED)
    first, second = order.shipments.order_by("id")
    with django_capture_on_commit_callbacks(execute=True):
        tracking_events_record(shipment=first, updates=[update("collected", 30)])
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_TRANSIT

    with django_capture_on_commit_callbacks(execute=True):
        tracking_events_record(
            shipment=first, updates=[update("delivered", 120, external_id="first-delivered")]
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_TRANSIT
    assert order.delivered_at is None

    with django_capture_on_commit_callbacks(execute=True):
        tracking_events_record(
            shipment=second, updates=[update("delivered", 150, external_id="second-delivered")]
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert order.delivered_at == SHIPPED + timedelta(minutes=150)
    second.refresh_from_db()
    assert second.delivered_at == SHIPPED + timedelta(minutes=150)
    moves = list(
        OrderStatusEvent.objects.filter(order=order).values_list("from_status", "to_status")
    )
    assert moves[-2:] == [("awaiting_collection", "in_transit"), ("in_transit", "delivered")]
    subjects = [m.subject for m in mailoutbox]
    assert f"Your order {order.number} is on its way" in subjects
    assert f"Your order {order.number} was delivered" in subjects
    delivered_mail = next(m for m in mailoutbox if "delivered" in m.subject)
    assert first.tracking_number in delivered_mail.body
    assert second.tracking_number in delivered_mail.body


def test_a_parcel_delivered_at_once_steps_the_order_through_in_transit():
    order = shipped_order(shipped_at=SHIPPED)
    tracking_events_record(shipment=order.shipments.get(), updates=[update("delivered", 120)])
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    moves = list(
        OrderStatusEvent.objects.filter(order=order).values_list("from_status", "to_status")
    )
    assert moves[-2:] == [("awaiting_collection", "in_transit"), ("in_transit", "delivered")]


def test_events_of_unknown_kinds_are_ignored():
    order = shipped_order(shipped_at=SHIPPED)
    assert (
        tracking_events_record(shipment=order.shipments.get(), updates=[update("teleported", 10)])
        == 0
    )
    assert not TrackingEvent.objects.exists()


# --- The tracking job ---------------------------------------------------------------------------


def test_the_job_brings_a_demo_order_to_delivered_and_a_second_run_changes_nothing(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 30
    now = timezone.now()
    order = shipped_order(packages=2, shipped_at=now - timedelta(hours=3))
    result = tracking_poll_due(now=now)
    assert result == {"polled": 2, "recorded": 10, "failed": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert set(order.shipments.values_list("status", flat=True)) == {ShipmentStatus.DELIVERED}
    # Delivered parcels are not asked about again, even once the interval has passed.
    assert tracking_poll_due(now=now + timedelta(hours=1)) == {
        "polled": 0,
        "recorded": 0,
        "failed": 0,
    }
    assert TrackingEvent.objects.count() == 10


def test_the_job_asks_again_only_after_the_interval_stalest_first_and_bounded(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 30
    orders = [shipped_order(shipped_at=SHIPPED) for _ in range(3)]
    # The job's clock is the carrier's: the demo carrier reports what is due by `now`.
    first = tracking_poll_due(now=SHIPPED, batch_size=2, min_interval=timedelta(minutes=10))
    assert first == {"polled": 2, "recorded": 2, "failed": 0}  # two labels
    # The third (never asked) goes before the two just asked.
    second = tracking_poll_due(now=SHIPPED, batch_size=2, min_interval=timedelta(minutes=10))
    assert second == {"polled": 1, "recorded": 1, "failed": 0}
    assert tracking_poll_due(now=SHIPPED + timedelta(minutes=5))["polled"] == 0
    later = tracking_poll_due(
        now=SHIPPED + timedelta(minutes=31), min_interval=timedelta(minutes=10)
    )
    assert later == {"polled": 3, "recorded": 3, "failed": 0}  # each parcel collected
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.IN_TRANSIT


def test_the_parcels_of_a_cancelled_order_are_not_asked_about():
    order = shipped_order(shipped_at=SHIPPED)
    transition(ORDER_MACHINE, instance=order, to_status=OrderStatus.CANCELLED)
    assert tracking_poll_due(now=SHIPPED + timedelta(hours=3))["polled"] == 0
    assert not TrackingEvent.objects.exists()


def test_a_carrier_that_fails_does_not_stop_the_others(settings, monkeypatch):
    now = timezone.now()
    demo_order = shipped_order(shipped_at=now - timedelta(hours=3))
    shipped_order(carrier="ups", tracking_numbers=["1Z999AA10123456784"])

    def broken(self, *, tracking_numbers, now=None):
        raise ConnectionError("carrier down")

    monkeypatch.setattr(webhook.WebhookAdapter, "poll", broken)
    assert tracking_poll_due(now=now) == {"polled": 2, "recorded": 5, "failed": 1}
    demo_order.refresh_from_db()
    assert demo_order.status == OrderStatus.DELIVERED


def test_the_task_is_scheduled_every_minute(settings):
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "orders.tasks.poll_tracking"
    )
    assert entry["schedule"] == timedelta(minutes=1)


# --- The buyer's order page ---------------------------------------------------------------------


def test_the_buyer_sees_each_package_and_its_events_newest_first(client):
    order = shipped_order(packages=2, shipped_at=SHIPPED)
    first, second = order.shipments.order_by("id")
    tracking_events_record(
        shipment=first, updates=[update("label_created", 0), update("collected", 30)]
    )
    client.force_login(order.buyer)
    page = client.get(reverse("orders:detail", args=[order.id])).content.decode()
    assert "Packages" in page
    assert "Agora Demo Post" in page
    assert first.tracking_number in page and second.tracking_number in page
    assert page.index("collected event") < page.index("label_created event")
    assert "The carrier has not reported anything yet." in page


def test_the_buyers_order_page_reads_a_constant_number_of_queries(client):

    order = shipped_order(packages=1, shipped_at=SHIPPED)
    tracking_events_record(shipment=order.shipments.get(), updates=[update("collected", 30)])
    client.force_login(order.buyer)
    url = reverse("orders:detail", args=[order.id])
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)

    for _ in range(3):
        Shipment.objects.create(
            order=order,
            seller=order.seller,
            carrier="demo",
            tracking_number=demo_tracking_number(),
            created_at=SHIPPED,
        )
    for shipment in order.shipments.all():
        tracking_events_record(
            shipment=shipment,
            updates=[update("in_transit", 60, f"x-{shipment.pk}"), update("label_created", 0)],
        )
    with CaptureQueriesContext(connection) as four:
        response = client.get(url)
    assert response.content.decode().count("tracking number") == 4
    assert len(four) == len(one)


# --- At once, and on a real worker --------------------------------------------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_polling_at_once_record_each_event_once(settings):
    settings.DEMO_CARRIER_STEP_MINUTES = 30
    now = timezone.now()
    orders = [shipped_order(packages=2, shipped_at=now - timedelta(hours=3)) for _ in range(6)]

    results = run_at_once(4, lambda _: tracking_poll_due(now=now, batch_size=5))

    # 12 parcels, room for 20: each claimed by exactly one run, whichever got there first.
    assert sum(r["polled"] for r in results) == 12
    assert all(r["polled"] <= 5 for r in results)
    assert sum(r["recorded"] for r in results) == 60
    assert TrackingEvent.objects.count() == 60
    assert tracking_poll_due(now=now) == {"polled": 0, "recorded": 0, "failed": 0}
    for order in orders:
        moves = list(
            OrderStatusEvent.objects.filter(order=order).values_list("to_status", flat=True)
        )
        assert moves.count("in_transit") == 1 and moves.count("delivered") == 1
        order.refresh_from_db()
        assert order.status == OrderStatus.DELIVERED


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_events_recorded_at_once_are_recorded_once():
    order = shipped_order(packages=2, shipped_at=SHIPPED)
    first, second = order.shipments.order_by("id")
    updates = [update("collected", 30), update("delivered", 120)]
    # Four recordings at once, two per parcel: the order must end delivered, moved once.
    results = run_at_once(
        4,
        lambda i: tracking_events_record(shipment=(first, second)[i % 2], updates=updates),
    )
    assert sorted(results) == [0, 0, 2, 2]
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    moves = list(OrderStatusEvent.objects.filter(order=order).values_list("to_status", flat=True))
    assert moves.count("in_transit") == 1 and moves.count("delivered") == 1


def run_at_once(count: int, action) -> list:
    """`action(index)` in `count` threads released together; their results (any exception fails
    the test)."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index):
        try:
            start.wait()
            results[index] = action(index)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def wait_for(condition, *, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


@pytest.mark.django_db(transaction=True)
def test_the_tracking_job_on_a_real_worker_brings_a_demo_order_to_delivered_once():
    order = shipped_order(packages=2, shipped_at=timezone.now() - timedelta(hours=3))
    with celery_worker_process(extra_env={"DEMO_CARRIER_STEP_MINUTES": "30"}) as queue:
        celery_app.conf.task_always_eager = False  # send it to the broker, not inline
        try:
            poll_tracking.apply_async(queue=queue)
            assert wait_for(
                lambda: Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
            ), "the worker did not deliver the order within 60 s"
            events = TrackingEvent.objects.count()
            audit_rows = OrderStatusEvent.objects.filter(order=order).count()
            notifications = Notification.objects.count()
            # Run it again, then a marker task: one solo worker takes them in order, so once the
            # marker ran, the second run has finished.
            poll_tracking.apply_async(queue=queue)
            record_job_heartbeat.apply_async(args=["tracking-test-marker"], queue=queue)
        finally:
            celery_app.conf.task_always_eager = True
        assert wait_for(lambda: JobHeartbeat.objects.filter(name="tracking-test-marker").exists())
    assert events == 10
    assert TrackingEvent.objects.count() == events
    assert OrderStatusEvent.objects.filter(order=order).count() == audit_rows
    assert Notification.objects.count() == notifications
    assert set(Notification.objects.values_list("kind", flat=True)) >= {
        "order.in_transit.buyer",
        "order.delivered.buyer",
    }
