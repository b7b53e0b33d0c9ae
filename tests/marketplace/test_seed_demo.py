import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from marketplace.accounts.models import User
from marketplace.management.commands.seed_demo import DEMO_LOGINS, demo_steps
from orders.models import (
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
    RefundStatus,
    Shipment,
    TrackingEvent,
)

pytestmark = pytest.mark.django_db


def run_seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_every_demo_login_and_prints_them():
    output = run_seed_demo()

    for login in DEMO_LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(login.password)
        assert user.is_staff == login.is_staff
        assert login.email in output and login.password in output
    steps = len(demo_steps())
    assert f"{steps}/{steps} 100%" in output


def test_running_it_twice_changes_nothing_and_repairs_a_changed_password():
    run_seed_demo()
    users = User.objects.count()
    shopper = User.objects.get(email="shopper@demo.test")
    shopper.set_password("changed-by-someone")
    shopper.save()

    run_seed_demo()

    assert User.objects.count() == users
    shopper.refresh_from_db()
    assert shopper.check_password("demo-shopper-pass")


def test_the_demo_admin_can_open_the_admin(client):
    run_seed_demo()
    admin_login = next(login for login in DEMO_LOGINS if login.is_staff)
    assert client.login(username=admin_login.email, password=admin_login.password)

    assert client.get("/admin/").status_code == 200


def test_the_demo_seller_sees_the_demo_shoppers_paid_orders(client):
    run_seed_demo()
    shopper = User.objects.get(email="shopper@demo.test")
    orders = Order.objects.filter(buyer=shopper)
    assert orders.exists()
    assert orders.values("seller").distinct().count() > 1
    assert client.login(username="seller@demo.test", password="demo-seller-pass")

    html = client.get(reverse("seller_orders:list")).content.decode()

    sofias = orders.filter(seller__slug="sofias-studio")
    assert sofias.count() >= 3
    for order in sofias:
        assert order.number in html
    others = orders.exclude(seller__slug="sofias-studio")
    assert all(order.number not in html for order in others)

    run_seed_demo()  # again: no second round of orders
    assert Order.objects.filter(buyer=shopper).count() == orders.count()


def test_the_demo_seller_has_orders_in_every_state_after_payment():
    run_seed_demo()
    shopper = User.objects.get(email="shopper@demo.test")
    sofias = Order.objects.filter(buyer=shopper, seller__slug="sofias-studio")
    statuses = set(sofias.values_list("status", flat=True))

    assert statuses >= {
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.AWAITING_COLLECTION,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
        OrderStatus.CANCELLED,
    }
    # Shipped with the demo carrier, and tracked.
    shipments = Shipment.objects.filter(order__in=sofias)
    assert set(shipments.values_list("carrier", flat=True)) == {"demo"}
    assert TrackingEvent.objects.filter(shipment__in=shipments).exists()
    # The cancelled order was refunded; another waits for the seller's answer.
    cancelled = sofias.get(status=OrderStatus.CANCELLED)
    assert cancelled.refunds.get().status == RefundStatus.SUCCEEDED
    assert OrderCancellation.objects.filter(
        order__in=sofias, status=CancellationStatus.PENDING
    ).exists()
    # One of the orders to ship is due within the day: the seller's "Needs attention" tab.
    to_ship = sofias.filter(status=OrderStatus.AWAITING_SHIPMENT)
    assert to_ship.filter(ship_by__lte=timezone.now() + timedelta(hours=24)).exists()
    assert not to_ship.filter(ship_by__lte=timezone.now()).exists()  # none already overdue

    before = {order.pk: order.status for order in Order.objects.all()}
    run_seed_demo()  # again: nothing placed or moved
    assert {order.pk: order.status for order in Order.objects.all()} == before
