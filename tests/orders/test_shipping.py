"""Shipping (orders/services/fulfilment.py, orders/views/seller_center/fulfilment.py): orders leave
the hold when the free cancellation window ends, the seller ships an order in one or several
packages from its page, and prints a packing slip; nobody else can."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError
from marketplace.notifications.models import Notification
from orders.carriers import CARRIERS
from orders.models import (
    Order,
    OrderStatus,
    OrderStatusEvent,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from orders.services import fulfilment
from orders.services.fulfilment import (
    PackageInput,
    ShipError,
    TrackingNumberTaken,
    order_ship,
    orders_release_for_shipment,
)
from orders.services.transitions import order_transition
from sellers.models import SellerRole
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    DEMO,
    UPS,
    UPS_2,
    order_with_lines,
    ready_to_ship,
)
from tests.sellers.factories import (
    ApprovedSellerFactory,
    SellerMemberFactory,
    ShippingTemplateFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(monkeypatch):
    """The carrier registrations made after commit, instead of the real adapters."""
    calls = []

    class Recorder:
        def __init__(self, code):
            self.code = code

        def register_shipment(self, *, tracking_number, shipped_at):
            calls.append((self.code, tracking_number, shipped_at))

    monkeypatch.setattr(fulfilment, "carrier_adapter", Recorder)
    return calls


def nothing_shipped(order: Order) -> bool:
    order.refresh_from_db()
    return (
        order.status == OrderStatus.AWAITING_SHIPMENT
        and order.shipped_at is None
        and not Shipment.objects.filter(order=order).exists()
        and not ShipmentLine.objects.filter(order_line__order=order).exists()
        and not Notification.objects.filter(
            kind="order.shipped.buyer", about=f"order:{order.pk}"
        ).exists()
    )


# --- Leaving the hold ---------------------------------------------------------------------------


def test_release_moves_orders_past_their_window_with_the_sellers_processing_days(settings):
    settings.ORDER_DELIVERY_DAYS = 5
    with_template = ApprovedSellerFactory()
    ShippingTemplateFactory(seller=with_template, processing_days=4)
    without_template = ApprovedSellerFactory()
    first = order_with_lines(with_template)
    second = order_with_lines(without_template)
    later = order_with_lines(without_template)
    now = timezone.now() + timedelta(hours=2)
    Order.objects.filter(pk=later.pk).update(cancel_window_ends_at=now + timedelta(minutes=1))

    moved = orders_release_for_shipment(now=now)

    assert sorted(moved) == sorted([first.pk, second.pk])
    first.refresh_from_db()
    second.refresh_from_db()
    later.refresh_from_db()
    assert first.status == second.status == OrderStatus.AWAITING_SHIPMENT
    assert first.ship_by == now + timedelta(days=4)
    assert first.deliver_by == now + timedelta(days=9)
    assert second.ship_by == now + timedelta(days=2)
    assert second.deliver_by == now + timedelta(days=7)
    assert later.status == OrderStatus.ON_HOLD and later.ship_by is None
    event = OrderStatusEvent.objects.filter(order=first).latest("id")
    assert (event.from_status, event.to_status, event.created_at) == (
        OrderStatus.ON_HOLD,
        OrderStatus.AWAITING_SHIPMENT,
        now,
    )


def test_release_is_idempotent_and_leaves_other_statuses_alone():
    seller = ApprovedSellerFactory()
    on_hold = order_with_lines(seller)
    cancelled = order_with_lines(seller)
    order_transition(order=cancelled, to_status=OrderStatus.CANCELLED)
    now = timezone.now() + timedelta(hours=2)

    assert orders_release_for_shipment(now=now) == [on_hold.pk]
    assert orders_release_for_shipment(now=now + timedelta(minutes=1)) == []

    assert (
        OrderStatusEvent.objects.filter(
            order=on_hold, to_status=OrderStatus.AWAITING_SHIPMENT
        ).count()
        == 1
    )
    cancelled.refresh_from_db()
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.ship_by is None


def test_release_waits_for_the_window_with_frozen_time():
    order = order_with_lines(ApprovedSellerFactory())
    window_end = order.cancel_window_ends_at

    assert orders_release_for_shipment(now=window_end - timedelta(seconds=1)) == []
    assert orders_release_for_shipment(now=window_end) == [order.pk]


def test_the_task_runs_the_release_and_is_scheduled(settings):
    from orders.tasks import release_orders_for_shipment

    schedule = settings.CELERY_BEAT_SCHEDULE["release-orders-for-shipment"]
    assert schedule["task"] == "orders.tasks.release_orders_for_shipment"
    assert schedule["schedule"] == timedelta(seconds=60)
    order = order_with_lines(ApprovedSellerFactory())
    Order.objects.filter(pk=order.pk).update(
        cancel_window_ends_at=timezone.now() - timedelta(seconds=1)
    )
    assert release_orders_for_shipment() == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_SHIPMENT


# --- order_ship ---------------------------------------------------------------------------------


def test_shipping_in_one_package_creates_the_shipment_and_tells_the_buyer(
    registered, django_capture_on_commit_callbacks, mailoutbox
):
    seller = ApprovedSellerFactory()
    buyer = UserFactory(email="bea@example.com")
    order = ready_to_ship(seller, (1000, 2), (500, 1), buyer=buyer)
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        shipments = order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=" 1z999aa1 0123456784 ")],
            now=now,
        )

    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_COLLECTION
    assert order.shipped_at == now
    [shipment] = shipments
    assert (shipment.carrier, shipment.tracking_number, shipment.status) == (
        "ups",
        UPS,
        ShipmentStatus.LABEL_CREATED,
    )
    assert shipment.seller_id == seller.pk and shipment.created_by == seller.owner
    assert sorted(
        ShipmentLine.objects.filter(shipment=shipment).values_list("order_line_id", "quantity")
    ) == sorted((line.pk, line.quantity) for line in order.lines.all())
    event = OrderStatusEvent.objects.filter(order=order).latest("id")
    assert (event.from_status, event.to_status, event.actor) == (
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.AWAITING_COLLECTION,
        seller.owner,
    )
    assert UPS in event.message
    assert registered == [("ups", UPS, now)]
    [mail] = [mail for mail in mailoutbox if "shipped" in mail.subject]
    assert mail.to == ["bea@example.com"]
    assert order.number in mail.subject
    assert "UPS" in mail.body and UPS in mail.body


def test_shipping_in_several_packages_splits_the_lines(registered):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 3), (500, 1))
    teapot, mug = order.lines.order_by("id")

    shipments = order_ship(
        order_id=order.pk,
        seller=seller,
        actor=seller.owner,
        packages=[
            PackageInput(carrier="ups", tracking_number=UPS, lines={teapot.pk: 2}),
            PackageInput(carrier="demo", tracking_number=DEMO, lines=None),
        ],
    )

    assert [(s.carrier, s.tracking_number) for s in shipments] == [("ups", UPS), ("demo", DEMO)]
    assert list(
        ShipmentLine.objects.filter(shipment=shipments[0]).values_list("order_line_id", "quantity")
    ) == [(teapot.pk, 2)]
    assert sorted(
        ShipmentLine.objects.filter(shipment=shipments[1]).values_list("order_line_id", "quantity")
    ) == sorted([(teapot.pk, 1), (mug.pk, 1)])


def test_a_second_package_without_lines_holds_none(registered):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 1))
    first, second = order_ship(
        order_id=order.pk,
        seller=seller,
        actor=seller.owner,
        packages=[
            PackageInput(carrier="ups", tracking_number=UPS),
            PackageInput(carrier="ups", tracking_number=UPS_2),
        ],
    )
    assert first.lines.count() == 1 and second.lines.count() == 0


@pytest.mark.parametrize(
    ("packages", "message"),
    [
        ([], "at least one package"),
        ([PackageInput(carrier="pigeon", tracking_number=UPS)], "Choose a carrier"),
        ([PackageInput(carrier="ups", tracking_number="")], "Enter the tracking number"),
        ([PackageInput(carrier="ups", tracking_number="12345")], "UPS tracking number looks"),
        (
            [
                PackageInput(carrier="ups", tracking_number=UPS),
                PackageInput(carrier="ups", tracking_number=UPS.lower()),
            ],
            "given twice",
        ),
        ([PackageInput(carrier="ups", tracking_number=UPS, lines={999999: 1})], "not in order"),
        ([PackageInput(carrier="ups", tracking_number=UPS, lines={"LINE": 0})], "not in order"),
    ],
)
def test_bad_packages_are_refused_with_nothing_written(registered, packages, message):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 2))

    with pytest.raises(ShipError, match=message):
        order_ship(order_id=order.pk, seller=seller, actor=seller.owner, packages=packages)

    assert nothing_shipped(order)
    assert registered == []


def test_quantities_must_add_up_to_the_order(registered):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller, (1000, 2), (500, 1))
    teapot, mug = order.lines.order_by("id")

    for lines, message in [
        ({teapot.pk: 0}, "must be 1 or more"),
        ({teapot.pk: 3, mug.pk: 1}, "more than was ordered"),
        ({teapot.pk: 1, mug.pk: 1}, "missing: 1 x"),
    ]:
        with pytest.raises(ShipError, match=message):
            order_ship(
                order_id=order.pk,
                seller=seller,
                actor=seller.owner,
                packages=[PackageInput(carrier="ups", tracking_number=UPS, lines=lines)],
            )
    assert nothing_shipped(order)


@pytest.mark.parametrize("carrier", CARRIERS, ids=lambda carrier: carrier.code)
def test_each_carriers_example_is_accepted_and_another_format_refused(registered, carrier):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    wrong = "X" + carrier.example

    with pytest.raises(ShipError, match=re.escape(carrier.example)):
        order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier=carrier.code, tracking_number=wrong)],
        )
    assert nothing_shipped(order)

    [shipment] = order_ship(
        order_id=order.pk,
        seller=seller,
        actor=seller.owner,
        packages=[PackageInput(carrier=carrier.code, tracking_number=carrier.example.lower())],
    )
    assert shipment.tracking_number == carrier.example


def test_a_tracking_number_used_by_another_shipment_is_refused(registered):
    seller = ApprovedSellerFactory()
    first = ready_to_ship(seller)
    second = ready_to_ship(seller)
    order_ship(
        order_id=first.pk,
        seller=seller,
        actor=seller.owner,
        packages=[PackageInput(carrier="ups", tracking_number=UPS)],
    )

    with pytest.raises(TrackingNumberTaken, match="already used"):
        order_ship(
            order_id=second.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS)],
        )
    assert nothing_shipped(second)
    # The same digits at another carrier are another parcel.
    order_ship(
        order_id=second.pk,
        seller=seller,
        actor=seller.owner,
        packages=[PackageInput(carrier="dhl", tracking_number="1234567890")],
    )


def test_the_unique_constraint_has_the_last_word(registered, monkeypatch):
    seller = ApprovedSellerFactory()
    first = ready_to_ship(seller)
    second = ready_to_ship(seller)
    order_ship(
        order_id=first.pk,
        seller=seller,
        actor=seller.owner,
        packages=[PackageInput(carrier="ups", tracking_number=UPS)],
    )
    # The check before writing misses it (a concurrent shipment committed in between).
    real_check = fulfilment._taken_tracking_numbers
    calls = []

    def check_that_misses(planned):
        calls.append(1)
        return [] if len(calls) == 1 else real_check(planned)

    monkeypatch.setattr(fulfilment, "_taken_tracking_numbers", check_that_misses)

    with pytest.raises(TrackingNumberTaken, match=UPS):
        order_ship(
            order_id=second.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS)],
        )
    assert nothing_shipped(second)


@pytest.mark.parametrize(
    ("statuses", "message"),
    [
        ((), "free cancellation window"),
        ((OrderStatus.CANCELLED,), "was cancelled"),
        ((OrderStatus.AWAITING_SHIPMENT, OrderStatus.CANCELLED), "was cancelled"),
        ((OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT), "already shipped"),
        (
            (OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT, OrderStatus.DELIVERED),
            "already shipped",
        ),
        (
            (
                OrderStatus.AWAITING_SHIPMENT,
                OrderStatus.IN_TRANSIT,
                OrderStatus.DELIVERED,
                OrderStatus.COMPLETED,
            ),
            "already shipped",
        ),
    ],
)
def test_only_an_order_awaiting_shipment_can_ship(registered, statuses, message):
    seller = ApprovedSellerFactory()
    order = order_with_lines(seller)
    for status in statuses:
        order = order_transition(order=order, to_status=status)
    before = OrderStatusEvent.objects.filter(order=order).count()

    with pytest.raises(ShipError, match=message):
        order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS)],
        )
    assert not Shipment.objects.exists()
    assert OrderStatusEvent.objects.filter(order=order).count() == before


def test_shipping_twice_is_refused_and_writes_nothing_more(registered):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    order_ship(
        order_id=order.pk,
        seller=seller,
        actor=seller.owner,
        packages=[PackageInput(carrier="ups", tracking_number=UPS)],
    )

    with pytest.raises(ShipError, match="already shipped"):
        order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS_2)],
        )
    assert Shipment.objects.filter(order=order).count() == 1


def test_a_stale_order_is_refused_by_the_compare_and_swap(registered, monkeypatch):
    """The order moves on between the read and the write (another submit shipped it)."""
    seller = ApprovedSellerFactory()
    order = ready_to_ship(seller)
    real_plan = fulfilment._plan_packages

    def plan_then_cancel(**kwargs):
        planned = real_plan(**kwargs)
        order_transition(order=Order.objects.get(pk=order.pk), to_status=OrderStatus.CANCELLED)
        return planned

    monkeypatch.setattr(fulfilment, "_plan_packages", plan_then_cancel)
    with pytest.raises(ShipError, match="was cancelled"):
        order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS)],
        )
    assert not Shipment.objects.exists()


def test_another_sellers_order_cannot_be_shipped(registered):
    seller = ApprovedSellerFactory()
    order = ready_to_ship(ApprovedSellerFactory())

    with pytest.raises(DomainError, match="No such order"):
        order_ship(
            order_id=order.pk,
            seller=seller,
            actor=seller.owner,
            packages=[PackageInput(carrier="ups", tracking_number=UPS)],
        )
    assert nothing_shipped(order)


# --- The pages ----------------------------------------------------------------------------------


def ship_url(order) -> str:
    return reverse("seller_orders:ship", args=[order.pk])


def test_the_order_page_shows_the_ship_form_with_every_carrier(owner_client):
    order = ready_to_ship(owner_client.seller)

    html = owner_client.get(reverse("seller_orders:detail", args=[order.pk])).content.decode()

    assert f'action="{ship_url(order)}"' in html
    for carrier in CARRIERS:
        assert f'<option value="{carrier.code}"' in html
        assert carrier.example in html
    assert 'name="tracking_number_2"' in html and "Add another package" in html
    assert reverse("seller_orders:packing_slip", args=[order.pk]) in html


def test_an_on_hold_order_page_says_when_it_can_ship(owner_client):
    order = order_with_lines(owner_client.seller)
    html = owner_client.get(reverse("seller_orders:detail", args=[order.pk])).content.decode()
    assert "You can ship it once that time has passed" in html
    assert ship_url(order) not in html


def test_shipping_from_the_page_confirms_and_lists_the_package(owner_client, registered):
    order = ready_to_ship(owner_client.seller, (1000, 2))

    response = owner_client.post(
        ship_url(order), {"carrier_1": "ups", "tracking_number_1": UPS}, follow=True
    )

    assert response.redirect_chain == [(reverse("seller_orders:detail", args=[order.pk]), 302)]
    html = response.content.decode()
    assert f"Order {order.number} is shipped (UPS {UPS})" in html
    assert f"<code>{UPS}</code>" in html and "Label created" in html
    assert ship_url(order) not in html
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_COLLECTION


def test_the_form_ships_several_packages_with_their_lines(owner_client, registered):
    order = ready_to_ship(owner_client.seller, (1000, 2), (500, 1))
    teapot, mug = order.lines.order_by("id")

    response = owner_client.post(
        ship_url(order),
        {
            "carrier_1": "ups",
            "tracking_number_1": UPS,
            f"qty_1_{teapot.pk}": "2",
            "carrier_2": "demo",
            "tracking_number_2": DEMO,
            "carrier_3": "",
            "tracking_number_3": "",
        },
    )

    assert response.status_code == 302
    ups, demo = Shipment.objects.filter(order=order).order_by("id")
    assert list(ups.lines.values_list("order_line_id", "quantity")) == [(teapot.pk, 2)]
    assert list(demo.lines.values_list("order_line_id", "quantity")) == [(mug.pk, 1)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"carrier_1": "ups", "tracking_number_1": "nope"}, "A UPS tracking number looks like"),
        ({"carrier_1": "", "tracking_number_1": UPS}, "Choose a carrier"),
        ({"carrier_1": "ups", "tracking_number_1": UPS, "qty_1_LINE": "x"}, "whole number"),
        ({"carrier_1": "ups\x00", "tracking_number_1": "\x00" * 3}, "Choose a carrier"),
        (
            {"carrier_1": "ups", "tracking_number_1": UPS, "carrier_2": "dhl"},
            "Package 2: enter the tracking number.",
        ),
    ],
)
def test_bad_input_shows_the_form_again_with_the_message(owner_client, registered, data, message):
    order = ready_to_ship(owner_client.seller)
    line = order.lines.get()
    data = {key.replace("LINE", str(line.pk)): value for key, value in data.items()}

    response = owner_client.post(ship_url(order), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "The order is not shipped" in html
    assert f'action="{ship_url(order)}"' in html
    assert nothing_shipped(order)


def test_the_form_keeps_what_was_typed(owner_client, registered):
    order = ready_to_ship(owner_client.seller)
    html = owner_client.post(
        ship_url(order), {"carrier_1": "fedex", "tracking_number_1": "12345"}
    ).content.decode()
    assert '<option value="fedex" selected>' in html
    assert 'value="12345"' in html


def test_shipping_an_order_already_shipped_from_a_stale_page_says_so(owner_client, registered):
    order = ready_to_ship(owner_client.seller)
    data = {"carrier_1": "ups", "tracking_number_1": UPS}
    assert owner_client.post(ship_url(order), data).status_code == 302

    response = owner_client.post(ship_url(order), {**data, "tracking_number_1": UPS_2})

    assert response.status_code == 400
    assert "has already shipped" in response.content.decode()
    assert Shipment.objects.filter(order=order).count() == 1


def test_get_on_the_ship_address_is_not_allowed(owner_client):
    order = ready_to_ship(owner_client.seller)
    assert owner_client.get(ship_url(order)).status_code == 405


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (SellerRole.ADMIN, 302),
        (SellerRole.ORDER_MANAGER, 302),
        (SellerRole.PRODUCT_MANAGER, 404),
        (SellerRole.FINANCE, 404),
    ],
)
def test_only_roles_with_the_orders_section_can_ship(client, seller, registered, role, status):
    order = ready_to_ship(seller)
    member = SellerMemberFactory(seller=seller, role=role)
    client.force_login(member.user)

    response = client.post(ship_url(order), {"carrier_1": "ups", "tracking_number_1": UPS})

    assert response.status_code == status
    assert Shipment.objects.filter(order=order).exists() == (status == 302)
    slip = client.get(reverse("seller_orders:packing_slip", args=[order.pk]))
    assert slip.status_code == (200 if status == 302 else 404)
    bulk = client.get(reverse("seller_orders:bulk_ship"))
    assert bulk.status_code == (200 if status == 302 else 404)


def test_another_sellers_order_answers_404(owner_client, registered):
    order = ready_to_ship(ApprovedSellerFactory())

    response = owner_client.post(ship_url(order), {"carrier_1": "ups", "tracking_number_1": UPS})

    assert response.status_code == 404
    assert nothing_shipped(order)
    slip = owner_client.get(reverse("seller_orders:packing_slip", args=[order.pk]))
    assert slip.status_code == 404


# --- The packing slip ---------------------------------------------------------------------------


def test_the_packing_slip_shows_shop_address_lines_and_number(owner_client):
    seller = owner_client.seller
    order = ready_to_ship(seller, (1000, 3), (500, 1))
    Order.objects.filter(pk=order.pk).update(
        ship_name="Bea Buyer", ship_line1="10 Elm Street", ship_city="Springfield"
    )

    response = owner_client.get(reverse("seller_orders:packing_slip", args=[order.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert seller.shop_name in html
    assert order.number in html
    assert "Bea Buyer" in html and "10 Elm Street" in html and "Springfield" in html
    for line in order.lines.all():
        assert line.product_title in html
        assert f"<code>{line.sku_code}</code>" in html
    assert '<td class="num">3</td>' in html and '<td class="num">1</td>' in html
    # Printable without a script or an inline style (the CSP forbids both).
    assert "<script>" not in html.replace("<script src=", "") and "style=" not in html
    # No prices on a slip that travels in the parcel.
    assert "$10.00" not in html


def test_the_packing_slip_costs_the_same_queries_however_many_lines(owner_client):
    seller = owner_client.seller
    small = ready_to_ship(seller, (1000, 1))
    large = ready_to_ship(seller, *[(1000 + i, 1) for i in range(6)])

    def queries(order) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = owner_client.get(reverse("seller_orders:packing_slip", args=[order.pk]))
        assert response.status_code == 200
        return len(captured)

    queries(small)  # warm up the session and the member look-up
    assert queries(small) == queries(large)


def test_the_packing_slip_css_prints_without_the_toolbar():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "marketplace/static/marketplace/css/app.css").read_text()
    print_rules = css[css.rindex("@media print") :]
    assert ".packing-slip-toolbar" in print_rules


def test_a_quantity_in_other_digits_is_a_form_error_not_a_500(owner_client):
    """ "²" passes str.isdigit() but int() refuses it."""
    order = ready_to_ship(owner_client.seller)
    line = order.lines.first()
    response = owner_client.post(
        reverse("seller_orders:ship", args=[order.pk]),
        {"carrier_1": "ups", "tracking_number_1": UPS, f"qty_1_{line.pk}": "\u00b2"},
    )
    assert response.status_code == 400
    assert not Shipment.objects.exists()
