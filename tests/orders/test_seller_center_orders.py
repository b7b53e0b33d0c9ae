"""The Seller Center's Orders pages (orders/views/seller_center.py): the seller's paid orders with
status tabs, search and pagination, a read-only detail page, and no door into another seller's."""

import re

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus
from orders.selectors import seller_order_tab_counts, seller_orders
from orders.services.checkout import checkout_place
from orders.services.transitions import order_transition
from sellers.models import SellerRole
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    DECLINED_CARD,
    PAID_CARD,
    BuyerAddressFactory,
    buyable_sku,
    cart_with,
    seller_paid_order,
)
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def move(order, *statuses):
    for status in statuses:
        order = order_transition(order=order, to_status=status)
    return order


@pytest.fixture
def seller():
    return ApprovedSellerFactory()


@pytest.fixture
def seller_client(client, seller):
    client.force_login(seller.owner)
    return client


def order_numbers(html: str) -> set[str]:
    return set(re.findall(r">(A\d{7})</a>", html))


def test_the_list_shows_the_sellers_paid_orders_newest_first(seller_client, seller):
    buyer = UserFactory(full_name="Bea Buyer", email="bea@example.com")
    first = seller_paid_order(seller, buyer=buyer, quantity=3, price_minor=1250)
    second = seller_paid_order(seller)
    someone_elses = seller_paid_order(ApprovedSellerFactory())
    unpaid = seller_paid_order(seller, card=DECLINED_CARD)
    assert unpaid.status == OrderStatus.UNPAID

    response = seller_client.get(reverse("seller_orders:list"))

    assert response.status_code == 200
    assert response.templates[0].name == "orders/seller_center/order_list.html"
    html = response.content.decode()
    assert order_numbers(html) == {first.number, second.number}
    assert html.index(second.number) < html.index(first.number)
    assert someone_elses.number not in html and unpaid.number not in html
    row = html[html.index(first.number) : html.index("</tr>", html.index(first.number))]
    assert "Bea Buyer" in row and "bea@example.com" in row
    assert 'data-label="Items">3</td>' in row
    assert first.total_minor == 3 * 1250 + first.shipping_minor
    assert f"${first.total_minor / 100:,.2f}" in row
    assert "Paid (on hold)" in row
    # The navigation marks Orders as the current section.
    assert f'<a href="{reverse("seller_orders:list")}" aria-current="page">Orders</a>' in html


def test_tabs_count_each_status_and_filter_the_list(seller_client, seller):
    on_hold = seller_paid_order(seller)
    to_ship = move(seller_paid_order(seller), OrderStatus.AWAITING_SHIPMENT)
    collecting = move(
        seller_paid_order(seller), OrderStatus.AWAITING_SHIPMENT, OrderStatus.AWAITING_COLLECTION
    )
    shipped = move(seller_paid_order(seller), OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT)
    completed = move(
        seller_paid_order(seller),
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    )
    cancelled = move(seller_paid_order(seller), OrderStatus.CANCELLED)
    seller_paid_order(seller, card=DECLINED_CARD)  # unpaid: in no tab

    assert seller_order_tab_counts(seller=seller) == {
        "all": 6,
        "on_hold": 1,
        "to_ship": 2,
        "shipped": 1,
        "delivered": 0,
        "completed": 1,
        "cancelled": 1,
        "needs_attention": 0,  # no ship-by deadline set, no request (test_seller_order_list.py)
    }
    html = seller_client.get(reverse("seller_orders:list")).content.decode()
    assert re.search(r'aria-current="page">All <span class="status-tab-count">6</span>', html)
    assert re.search(r'>To ship <span class="status-tab-count">2</span>', html)

    expected = {
        "on_hold": {on_hold},
        "to_ship": {to_ship, collecting},
        "shipped": {shipped},
        "delivered": set(),
        "completed": {completed},
        "cancelled": {cancelled},
    }
    for key, orders in expected.items():
        page = seller_client.get(reverse("seller_orders:list"), {"status": key})
        assert order_numbers(page.content.decode()) == {order.number for order in orders}, key
    empty = seller_client.get(reverse("seller_orders:list"), {"status": "delivered"})
    assert "No orders have this status." in empty.content.decode()


def test_search_by_order_number_or_buyer_email(seller_client, seller):
    ann = seller_paid_order(seller, buyer=UserFactory(email="ann.smith@example.com"))
    bob = seller_paid_order(seller, buyer=UserFactory(email="bob@example.org"))

    def found(query, **params):
        page = seller_client.get(reverse("seller_orders:list"), {"q": query, **params})
        return order_numbers(page.content.decode())

    assert found(ann.number) == {ann.number}
    assert found(ann.number.lower()) == {ann.number}
    assert found(str(bob.pk)) == {bob.number}
    assert found("ANN.SMITH") == {ann.number}
    assert found("example") == {ann.number, bob.number}
    assert found("bob@example.org", status="cancelled") == set()
    assert found("nobody\x00") == set()
    html = seller_client.get(reverse("seller_orders:list"), {"q": "nobody"}).content.decode()
    assert "No orders match" in html
    # The tab counts follow the search.
    assert seller_order_tab_counts(seller=seller, search="bob@")["all"] == 1


def test_the_list_is_paginated_by_25_and_keeps_the_filters(seller_client, seller):
    buyer = UserFactory(email="many@example.com")
    for _ in range(27):
        seller_paid_order(seller, buyer=buyer)

    first = seller_client.get(reverse("seller_orders:list"), {"q": "many@", "status": "on_hold"})
    html = first.content.decode()
    assert len(order_numbers(html)) == 25
    assert "Page 1 of 2" in html
    assert 'href="?status=on_hold&amp;q=many%40&amp;page=2"' in html
    second = seller_client.get(
        reverse("seller_orders:list"), {"q": "many@", "status": "on_hold", "page": 2}
    )
    assert len(order_numbers(second.content.decode())) == 2


def test_the_detail_page_shows_address_lines_totals_commission_and_timeline(seller_client, seller):
    buyer = UserFactory(full_name="Bea Buyer")
    order = seller_paid_order(seller, buyer=buyer, quantity=2, price_minor=1000)
    order = move(order, OrderStatus.AWAITING_SHIPMENT)
    line = order.lines.get()

    response = seller_client.get(reverse("seller_orders:detail", args=[order.id]))

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Order {order.number}" in html
    assert order.ship_line1 in html and order.ship_city in html and order.ship_postal_code in html
    assert f"<code>{line.sku_code}</code>" in html and 'data-label="Quantity">2</td>' in html
    assert "$20.00" in html  # the line and the subtotal
    assert f"${order.commission_minor / 100:,.2f}" in html
    assert f"${(order.total_minor - order.commission_minor) / 100:,.2f}" in html
    assert "Platform commission (2% of the items)" in html
    for status in ("Paid (on hold)", "Awaiting shipment"):
        assert f"<strong>{status}</strong>" in html
    # Shipping arrived: an order awaiting shipment has its ship form (tests/orders/test_shipping.py).
    assert f'action="{reverse("seller_orders:ship", args=[order.id])}"' in html


def test_another_sellers_order_and_an_unpaid_order_answer_404(seller_client, seller):
    theirs = seller_paid_order(ApprovedSellerFactory())
    unpaid = seller_paid_order(seller, card=DECLINED_CARD)

    for order in (theirs, unpaid):
        assert (
            seller_client.get(reverse("seller_orders:detail", args=[order.id])).status_code == 404
        )
    assert seller_client.get(reverse("seller_orders:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (SellerRole.ORDER_MANAGER, 200),
        (SellerRole.ADMIN, 200),
        (SellerRole.PRODUCT_MANAGER, 404),
        (SellerRole.FINANCE, 404),
    ],
)
def test_only_roles_with_the_orders_section_open_the_pages(client, seller, role, status):
    order = seller_paid_order(seller)
    member = SellerMemberFactory(seller=seller, role=role)
    client.force_login(member.user)

    assert client.get(reverse("seller_orders:list")).status_code == status
    assert client.get(reverse("seller_orders:detail", args=[order.id])).status_code == status


def test_a_shop_not_approved_yet_and_a_stranger_are_kept_out(client):
    client.force_login(SellerFactory().owner)  # applied, not approved
    assert client.get(reverse("seller_orders:list")).status_code == 404

    client.force_login(UserFactory())
    response = client.get(reverse("seller_orders:list"))
    assert response.status_code == 302 and response.url == reverse("seller_center:apply")


def test_the_list_costs_the_same_queries_for_1_or_30_orders(
    client, seller, django_assert_num_queries
):
    client.force_login(seller.owner)
    url = reverse("seller_orders:list")
    seller_paid_order(seller)
    with_one = _count(client, url)
    # session, user, membership, tab counts, page count, the page's orders: a handful, whatever
    # the number of orders.
    assert with_one <= 8

    for _ in range(29):
        seller_paid_order(seller)
    assert seller_orders(seller=seller).count() == 30
    with django_assert_num_queries(with_one):
        response = client.get(url)
    assert len(order_numbers(response.content.decode())) == 25
    with django_assert_num_queries(with_one):
        client.get(url, {"page": 2, "q": "example", "status": "on_hold"})


def test_the_detail_costs_the_same_queries_for_1_or_many_lines(
    client, seller, django_assert_num_queries
):
    client.force_login(seller.owner)
    small = seller_paid_order(seller)
    buyer = UserFactory()
    cart_with(buyer, *[(buyable_sku(seller=seller), 1) for _ in range(8)])
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD)
    big = Order.objects.filter(buyer=buyer).get()
    move(big, OrderStatus.AWAITING_SHIPMENT)
    assert big.lines.count() == 8

    queries = _count(client, reverse("seller_orders:detail", args=[small.id]))
    with django_assert_num_queries(queries):
        client.get(reverse("seller_orders:detail", args=[big.id]))


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)
