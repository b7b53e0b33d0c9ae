"""The Seller Center orders list (orders/views/seller_center/orders.py): the "Needs attention" tab,
search by order number, buyer or SKU code, placed-date filters, the ship-by deadline on each row,
and a query count that does not grow with the orders."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.state import transition
from orders.models import (
    ORDER_MACHINE,
    CancellationInitiator,
    CancellationReason,
    CancellationStatus,
    Order,
    OrderCancellation,
    OrderStatus,
)
from orders.selectors import seller_order_tab_counts
from tests.accounts.factories import UserFactory
from tests.orders.factories import seller_paid_order
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seller():
    return ApprovedSellerFactory()


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.owner)
    return client


def order_numbers(html: str) -> set[str]:
    return set(re.findall(r">(A\d{7})</a>", html))


def to_ship(order: Order, *, ship_by) -> Order:
    transition(
        ORDER_MACHINE,
        instance=order,
        to_status=OrderStatus.AWAITING_SHIPMENT,
        fields={"ship_by": ship_by, "deliver_by": ship_by + timedelta(days=5)},
    )
    return order


def pending_request(order: Order) -> OrderCancellation:
    return OrderCancellation.objects.create(
        order=order,
        initiated_by=CancellationInitiator.BUYER,
        reason=CancellationReason.CHANGED_MIND,
        status=CancellationStatus.PENDING,
        requested_by=order.buyer,
        respond_by=timezone.now() + timedelta(days=1),
    )


def list_page(client, **params) -> str:
    response = client.get(reverse("seller_orders:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def row_of(html: str, number: str) -> str:
    start = html.index(number)
    return html[start : html.index("</tr>", start)]


def test_needs_attention_holds_orders_due_within_24_hours_and_pending_requests(
    seller_client, seller
):
    now = timezone.now()
    soon = to_ship(seller_paid_order(seller), ship_by=now + timedelta(hours=5, minutes=10))
    overdue = to_ship(seller_paid_order(seller), ship_by=now - timedelta(hours=1))
    later = to_ship(seller_paid_order(seller), ship_by=now + timedelta(hours=30))
    asked = pending_request(seller_paid_order(seller)).order
    on_hold = seller_paid_order(seller)
    someone_elses = to_ship(seller_paid_order(ApprovedSellerFactory()), ship_by=now)

    html = list_page(seller_client, status="needs_attention")

    assert order_numbers(html) == {soon.number, overdue.number, asked.number}
    assert later.number not in html and on_hold.number not in html
    assert someone_elses.number not in html
    assert re.search(r'Needs attention <span class="status-tab-count">3</span>', html)
    assert seller_order_tab_counts(seller=seller)["needs_attention"] == 3
    assert (
        seller_order_tab_counts(seller=seller, now=now + timedelta(hours=7))["needs_attention"] == 4
    )


def test_each_row_shows_the_ship_by_deadline_with_the_time_left(seller_client, seller):
    now = timezone.now()
    soon = to_ship(seller_paid_order(seller), ship_by=now + timedelta(hours=5, minutes=30))
    overdue = to_ship(seller_paid_order(seller), ship_by=now - timedelta(minutes=5))
    far = to_ship(seller_paid_order(seller), ship_by=now + timedelta(days=3, hours=2))
    on_hold = seller_paid_order(seller)

    html = list_page(seller_client)

    assert "ships in 5 h" in row_of(html, soon.number)
    assert "overdue" in row_of(html, overdue.number)
    assert "ships in 3 d" in row_of(html, far.number)
    assert "ships in" not in row_of(html, on_hold.number)


def test_search_by_buyer_name_or_sku_code(seller_client, seller):
    ann = seller_paid_order(seller, buyer=UserFactory(full_name="Ann Lee", email="a@example.com"))
    bob = seller_paid_order(seller, buyer=UserFactory(full_name="Bob Stone", email="b@example.com"))
    sku_code = bob.lines.get().sku_code

    assert order_numbers(list_page(seller_client, q="ann lee")) == {ann.number}
    assert order_numbers(list_page(seller_client, q="STONE")) == {bob.number}
    assert order_numbers(list_page(seller_client, q=sku_code.lower())) == {bob.number}
    assert order_numbers(list_page(seller_client, q=ann.number)) == {ann.number}
    assert order_numbers(list_page(seller_client, q="b@example")) == {bob.number}


def test_placed_date_filters(seller_client, seller):
    today = timezone.localdate()
    old = seller_paid_order(seller)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = seller_paid_order(seller)
    ten_days_ago = (today - timedelta(days=10)).isoformat()

    assert order_numbers(list_page(seller_client, placed_from=today.isoformat())) == {new.number}
    assert order_numbers(list_page(seller_client, placed_to=ten_days_ago)) == {old.number}
    assert order_numbers(
        list_page(seller_client, placed_from=ten_days_ago, placed_to=today.isoformat())
    ) == {old.number, new.number}
    html = list_page(seller_client, placed_from=today.isoformat(), status="on_hold")
    # The tabs and the pagination keep the dates.
    assert f"placed_from={today.isoformat()}" in html
    assert re.search(r'All <span class="status-tab-count">1</span>', html)


@pytest.mark.parametrize(
    "params",
    [
        {"placed_from": "31/31/2026"},
        {"placed_to": "yesterday"},
        {"placed_from": "2026-05-02", "placed_to": "2026-05-01"},
        {"placed_from": "2026-02-30"},
        {"placed_from": "9" * 500},
    ],
)
def test_bad_dates_are_a_message_not_an_error(seller_client, seller, params):
    order = seller_paid_order(seller)

    html = list_page(seller_client, **params)

    assert 'role="alert"' in html and "The dates were not applied." in html
    assert order_numbers(html) == {order.number}


def test_the_list_costs_the_same_queries_for_5_or_50_orders(
    client, seller, django_assert_num_queries
):
    client.force_login(seller.owner)
    buyer = UserFactory()
    now = timezone.now()
    url = reverse("seller_orders:list")
    params = {"q": "example", "placed_from": (timezone.localdate() - timedelta(days=1)).isoformat()}

    def add(count):
        for index in range(count):
            order = seller_paid_order(seller, buyer=buyer)
            if index % 2:
                to_ship(order, ship_by=now + timedelta(hours=index))
            if index % 5 == 0:
                pending_request(order)

    add(5)
    client.get(url)  # warm the session and the seller lookups
    with CaptureQueriesContext(connection) as context:
        client.get(url, params)
    with_five = len(context.captured_queries)
    client.get(url, {"status": "needs_attention"})

    add(45)
    with django_assert_num_queries(with_five):
        response = client.get(url, params)
    assert len(order_numbers(response.content.decode())) == 25
    with django_assert_num_queries(with_five):
        client.get(url, {**params, "status": "needs_attention"})


@pytest.mark.parametrize(
    "query", ["placed_to=9999-12-31", "placed_from=0001-01-01", "placed_from=9999-12-31"]
)
def test_dates_at_the_ends_of_the_calendar_are_a_message_not_a_500(owner_client, query):
    response = owner_client.get(reverse("seller_orders:list") + "?" + query)
    assert response.status_code == 200
    assert "choose a date between the years 2000 and 2999." in response.content.decode()
