"""The cart count in the storefront header: one selector (orders.selectors.cart_item_count) counts,
the template tag only finds whose cart it is."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory

from orders.models import Cart, CartLine
from orders.selectors import cart_item_count
from orders.services.cart import SESSION_CART_KEY
from tests.accounts.factories import UserFactory
from tests.orders.factories import buyable_sku, cart_with

pytestmark = pytest.mark.django_db


def header_count(*, user, session) -> str:
    request = RequestFactory().get("/")
    request.user, request.session = user, session
    return Template("{% load orders_tags %}{% cart_count as n %}{{ n }}").render(
        Context({"request": request})
    )


def test_the_count_is_the_units_in_the_shoppers_cart_by_user_or_by_session_key(
    django_assert_num_queries,
):
    shopper = UserFactory()
    cart_with(shopper, (buyable_sku(), 2), (buyable_sku(), 3))
    anonymous_cart = Cart.objects.create(session_key="key-1")
    CartLine.objects.create(cart=anonymous_cart, sku=buyable_sku(), quantity=4)

    with django_assert_num_queries(1):
        assert cart_item_count(user=shopper) == 5
    with django_assert_num_queries(1):
        assert cart_item_count(user=AnonymousUser(), session_key="key-1") == 4
    with django_assert_num_queries(0):
        assert cart_item_count(user=AnonymousUser(), session_key=None) == 0
    assert cart_item_count(user=UserFactory()) == 0

    assert header_count(user=shopper, session={}) == "5"
    assert header_count(user=AnonymousUser(), session={SESSION_CART_KEY: "key-1"}) == "4"
    assert header_count(user=AnonymousUser(), session={}) == "0"
