"""Double-clicks, resubmits and two tabs at once, with real threads on PostgreSQL: one cart checks
out once, and ten adds to the cart at once add ten units."""

import re

import pytest
from django.urls import reverse

from catalog.models import SKU
from marketplace.payments.models import LocalPayment
from orders.models import Cart, CartLine, Checkout, Order, OrderStatus
from tests.accounts.factories import UserFactory
from tests.concurrency.threads import run_at_once, signed_in_clients
from tests.markers import needs_postgres
from tests.orders.factories import (
    BuyerAddressFactory,
    buyable_sku,
    cart_with,
    checkout_page_fields,
)

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def test_four_concurrent_submits_of_one_checkout_charge_once_and_point_at_one_order():
    user = UserFactory()
    address = BuyerAddressFactory(user=user)
    sku = buyable_sku(stock=20)
    cart_with(user, (sku, 1))
    clients = signed_in_clients(user, 4)
    form = {
        "saved_address": address.id,
        **checkout_page_fields(clients[0]),
        "card_number": "4242 4242 4242 4242",
    }

    responses = run_at_once(4, lambda i: clients[i].post(reverse("checkout:start"), form))

    assert [response.status_code for response in responses] == [302] * 4
    checkout = Checkout.objects.get()
    assert {re.search(r"/checkout/(\d+)/", r["Location"]).group(1) for r in responses} == {
        str(checkout.id)
    }
    assert LocalPayment.objects.count() == 1
    assert Order.objects.get().status == OrderStatus.ON_HOLD
    assert SKU.objects.get(id=sku.id).stock_on_hand == 19


def test_two_tabs_placing_the_same_cart_at_once_charge_once():
    user = UserFactory()
    address = BuyerAddressFactory(user=user)
    sku = buyable_sku(stock=20)
    cart_with(user, (sku, 2))
    clients = signed_in_clients(user, 2)
    # Each tab loaded its own checkout page: two different tokens.
    forms = [
        {"saved_address": address.id, **checkout_page_fields(c), "card_number": "4242424242424242"}
        for c in clients
    ]
    assert forms[0]["submit_token"] != forms[1]["submit_token"]

    responses = run_at_once(2, lambda i: clients[i].post(reverse("checkout:start"), forms[i]))

    checkout = Checkout.objects.get()
    assert LocalPayment.objects.count() == 1
    assert SKU.objects.get(id=sku.id).stock_on_hand == 18
    # The other tab is sent to that checkout, or (when it was already paid and the cart emptied)
    # to the cart with "Your cart is empty."
    for response in responses:
        assert response.status_code == 302
        assert response["Location"] in {
            reverse("checkout:done", args=[checkout.id]),
            reverse("checkout:pay", args=[checkout.id]),
            reverse("cart:detail"),
        }


def test_ten_concurrent_adds_of_one_sku_give_ten_units():
    user = UserFactory()
    sku = buyable_sku(stock=50)
    Cart.objects.create(user=user)
    clients = signed_in_clients(user, 10)

    responses = run_at_once(
        10,
        lambda i: clients[i].post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 1}),
    )

    assert {response.status_code for response in responses} == {302}
    assert CartLine.objects.get(cart__user=user, sku=sku).quantity == 10


def test_ten_concurrent_first_adds_to_an_empty_cart_give_ten_units():
    """No line yet: the inserts race on the unique (cart, sku) constraint."""
    user = UserFactory()
    sku = buyable_sku(stock=50)
    Cart.objects.create(user=user)
    clients = signed_in_clients(user, 10)

    run_at_once(
        10,
        lambda i: clients[i].post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 1}),
    )

    assert CartLine.objects.get(cart__user=user, sku=sku).quantity == 10
