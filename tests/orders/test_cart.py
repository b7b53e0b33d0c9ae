import pytest
from django.contrib.sessions.backends.db import SessionStore

from catalog.models import ProductStatus
from marketplace.errors import DomainError
from orders.models import Cart, CartLine
from orders.selectors import cart_summary
from orders.services.cart import (
    SESSION_CART_KEY,
    NotBuyable,
    cart_add,
    cart_get_or_create,
    cart_merge_after_login,
    cart_remove,
    cart_update,
)
from sellers.models import SellerStatus
from tests.accounts.factories import UserFactory
from tests.orders.factories import ShippingTemplateFactory, buyable_sku

pytestmark = pytest.mark.django_db


def test_adding_twice_adds_the_quantities():
    cart = cart_get_or_create(user=UserFactory())
    sku = buyable_sku(stock=10)
    cart_add(cart=cart, sku_id=sku.id, quantity=2)
    change = cart_add(cart=cart, sku_id=sku.id, quantity=3)
    assert change.quantity == 5
    assert CartLine.objects.get(cart=cart, sku=sku).quantity == 5


def test_quantity_is_capped_to_the_stock_with_a_message():
    cart = cart_get_or_create(user=UserFactory())
    sku = buyable_sku(stock=3)
    change = cart_add(cart=cart, sku_id=sku.id, quantity=5)
    assert change.capped and change.quantity == 3
    assert "Only 3" in change.message
    assert CartLine.objects.get(cart=cart).quantity == 3


@pytest.mark.parametrize("reason", ["draft", "suspended seller", "inactive", "sold out"])
def test_it_refuses_what_cannot_be_bought_and_writes_nothing(reason):
    cart = cart_get_or_create(user=UserFactory())
    sku = buyable_sku(stock=0 if reason == "sold out" else 5)
    if reason == "draft":
        sku.product.status = ProductStatus.DRAFT
        sku.product.save()
    elif reason == "suspended seller":
        sku.product.seller.status = SellerStatus.SUSPENDED
        sku.product.seller.save()
    elif reason == "inactive":
        sku.is_active = False
        sku.save()
    with pytest.raises(NotBuyable):
        cart_add(cart=cart, sku_id=sku.id, quantity=1)
    assert not CartLine.objects.exists()


def test_update_to_zero_removes_the_line_and_remove_removes_it():
    cart = cart_get_or_create(user=UserFactory())
    first, second = buyable_sku(), buyable_sku()
    cart_add(cart=cart, sku_id=first.id)
    cart_add(cart=cart, sku_id=second.id)
    cart_update(cart=cart, sku_id=first.id, quantity=0)
    cart_remove(cart=cart, sku_id=second.id)
    assert not CartLine.objects.filter(cart=cart).exists()


def test_update_refuses_a_line_not_in_the_cart():
    cart = cart_get_or_create(user=UserFactory())
    with pytest.raises(DomainError):
        cart_update(cart=cart, sku_id=buyable_sku().id, quantity=2)
    assert not CartLine.objects.exists()


def test_anonymous_cart_lives_in_the_session_and_merges_at_login():
    session = SessionStore()
    anonymous = cart_get_or_create(session=session)
    shared, only_anonymous = buyable_sku(stock=4), buyable_sku()
    cart_add(cart=anonymous, sku_id=shared.id, quantity=3)
    cart_add(cart=anonymous, sku_id=only_anonymous.id, quantity=1)
    user = UserFactory()
    mine = cart_get_or_create(user=user)
    cart_add(cart=mine, sku_id=shared.id, quantity=2)

    class Request:
        pass

    request = Request()
    request.session = session
    cart_merge_after_login(request=request, user=user)

    quantities = dict(CartLine.objects.filter(cart=mine).values_list("sku_id", "quantity"))
    assert quantities == {shared.id: 4, only_anonymous.id: 1}  # 3 + 2 capped to the 4 in stock
    assert not Cart.objects.filter(id=anonymous.id).exists()
    assert SESSION_CART_KEY not in session


def test_summary_groups_by_seller_with_shipping_from_the_template():
    cart = cart_get_or_create(user=UserFactory())
    cheap = buyable_sku(price_minor=1000)
    ShippingTemplateFactory(seller=cheap.product.seller, flat_fee_minor=500)
    pricey = buyable_sku(price_minor=6000)
    ShippingTemplateFactory(seller=pricey.product.seller, free_shipping_threshold_minor=5000)
    cart_add(cart=cart, sku_id=cheap.id, quantity=2)
    cart_add(cart=cart, sku_id=pricey.id, quantity=1)

    summary = cart_summary(cart=cart)

    shipping = {g.seller.id: g.shipping.amount_minor for g in summary.groups}
    assert shipping == {cheap.product.seller_id: 500, pricey.product.seller_id: 0}
    assert summary.total.amount_minor == 2000 + 500 + 6000
    assert summary.item_count == 3


def test_summary_warns_when_stock_fell_below_the_cart_quantity(django_assert_max_num_queries):
    cart = cart_get_or_create(user=UserFactory())
    sku = buyable_sku(stock=5)
    cart_add(cart=cart, sku_id=sku.id, quantity=5)
    sku.stock_on_hand = 2
    sku.save()
    with django_assert_max_num_queries(1):
        summary = cart_summary(cart=cart)
    (item,) = summary.groups[0].items
    assert item.warnings == ["Only 2 left: lower the quantity to check out."]
    assert summary.has_problems


def test_summary_points_out_a_price_change_without_stopping_the_checkout():
    cart = cart_get_or_create(user=UserFactory())
    sku = buyable_sku(price_minor=1000)
    cart_add(cart=cart, sku_id=sku.id, quantity=1)
    sku.price_minor = 1200
    sku.save()
    summary = cart_summary(cart=cart)
    (item,) = summary.groups[0].items
    assert item.notices == ["Price changed from $10.00 to $12.00 since you added it."]
    assert not summary.has_problems
    assert summary.total.amount_minor == 1200
