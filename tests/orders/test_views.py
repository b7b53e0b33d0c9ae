import pytest
from django.urls import reverse

from catalog.selectors import product_url
from marketplace.payments.models import LocalPayment
from orders.models import BuyerAddress, CartLine, Checkout, CheckoutStatus, Order
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    BuyerAddressFactory,
    buyable_sku,
    cart_with,
    checkout_page_fields,
    paid_order,
)

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
    "save_address": "on",
}


def test_an_anonymous_shopper_can_add_to_the_cart_and_see_it(client):
    sku = buyable_sku(title="Green teapot", price_minor=1999)
    response = client.post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 2})
    assert response.status_code == 302
    page = client.get(reverse("cart:detail")).content.decode()
    assert "Green teapot" in page and "$39.98" in page
    assert "Cart (2)" in page


def test_adding_a_sold_out_item_shows_the_message_and_adds_nothing(client):
    sku = buyable_sku(stock=0, title="Gone vase")
    response = client.post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 1}, follow=True)
    assert "Sold out: Gone vase" in response.content.decode()
    assert not CartLine.objects.exists()


def test_the_cart_updates_and_removes_lines(client):
    user = UserFactory()
    client.force_login(user)
    sku = buyable_sku(stock=3)
    cart_with(user, (sku, 1))
    client.post(reverse("cart:update", args=[sku.id]), {"quantity": 5}, follow=True)
    assert CartLine.objects.get().quantity == 3
    client.post(reverse("cart:remove", args=[sku.id]))
    assert not CartLine.objects.exists()


def test_the_cart_follows_the_shopper_through_login(client):
    from tests.accounts.factories import DEFAULT_PASSWORD

    sku = buyable_sku()
    client.post(reverse("cart:add"), {"sku_id": sku.id, "quantity": 1})
    user = UserFactory()
    client.post(reverse("accounts:login"), {"username": user.email, "password": DEFAULT_PASSWORD})
    assert CartLine.objects.get().cart.user == user


def test_the_product_page_has_an_add_to_cart_form(client):
    sku = buyable_sku()
    page = client.get(product_url(sku.product)).content.decode()
    assert reverse("cart:add") in page and f'value="{sku.id}"' in page


def test_checkout_needs_a_signed_in_shopper(client):
    response = client.get(reverse("checkout:start"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


def test_checkout_places_orders_and_shows_the_confirmation(client):
    user = UserFactory()
    client.force_login(user)
    first, second = buyable_sku(), buyable_sku()
    cart_with(user, (first, 1), (second, 1))
    page = client.get(reverse("checkout:start")).content.decode()
    assert "TEST MODE" in page and "4242 4242 4242 4242" in page

    response = client.post(
        reverse("checkout:start"),
        {**NEW_ADDRESS, **checkout_page_fields(client), "card_number": "4242 4242 4242 4242"},
    )

    checkout = Checkout.objects.get()
    assert response["Location"] == reverse("checkout:done", args=[checkout.id])
    page = client.get(response["Location"]).content.decode()
    assert page.count('data-testid="placed-order"') == 2
    assert BuyerAddress.objects.get(user=user).is_default


def test_a_new_address_needs_its_fields(client):
    user = UserFactory()
    client.force_login(user)
    cart_with(user, (buyable_sku(), 1))
    response = client.post(reverse("checkout:start"), {"card_number": "4242424242424242"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Checkout.objects.exists()


def test_a_declined_card_shows_the_error_and_a_retry_that_works(client):
    user = UserFactory()
    client.force_login(user)
    address = BuyerAddressFactory(user=user)
    cart_with(user, (buyable_sku(), 1))
    response = client.post(
        reverse("checkout:start"),
        {
            "saved_address": address.id,
            **checkout_page_fields(client),
            "card_number": "4000 0000 0000 0002",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Payment failed" in page and "Nothing was charged" in page
    checkout = Checkout.objects.get()
    assert checkout.status == CheckoutStatus.FAILED
    assert not LocalPayment.objects.filter(status="succeeded").exists()

    response = client.post(
        reverse("checkout:pay", args=[checkout.id]), {"card_number": "4242424242424242"}
    )
    assert response["Location"] == reverse("checkout:done", args=[checkout.id])


def test_a_buyer_sees_their_order_with_its_timeline(client):
    user = UserFactory()
    order = paid_order(user)
    client.force_login(user)
    page = client.get(reverse("orders:detail", args=[order.id])).content.decode()
    assert order.number in page and "Payment received." in page and "Order placed." in page


def test_a_buyer_cannot_see_another_buyers_order_or_checkout(client):
    order = paid_order(UserFactory())
    client.force_login(UserFactory())
    assert client.get(reverse("orders:detail", args=[order.id])).status_code == 404
    assert client.get(reverse("checkout:done", args=[order.checkout_id])).status_code == 404
    assert client.get(reverse("checkout:pay", args=[order.checkout_id])).status_code == 404
    assert order.number not in client.get(reverse("orders:list")).content.decode()


def test_the_order_list_reads_a_constant_number_of_queries(client, django_assert_num_queries):
    user = UserFactory()
    paid_order(user)
    client.force_login(user)
    # session, user, count, orders, their lines, the header's cart count
    with django_assert_num_queries(6):
        client.get(reverse("orders:list"))
    for _ in range(3):
        paid_order(user)
    with django_assert_num_queries(6):
        response = client.get(reverse("orders:list"))
    assert response.content.decode().count("Paid: on hold") == 4


def test_a_shopper_with_saved_addresses_may_still_enter_a_new_one(client):
    user = UserFactory()
    client.force_login(user)
    BuyerAddressFactory(user=user)
    cart_with(user, (buyable_sku(), 1))
    response = client.post(
        reverse("checkout:start"), {"saved_address": "", "card_number": "4242424242424242"}
    )
    assert "Required for a new address." in response.content.decode()
    response = client.post(
        reverse("checkout:start"),
        {
            "saved_address": "",
            **NEW_ADDRESS,
            **checkout_page_fields(client),
            "card_number": "4242424242424242",
        },
    )
    assert response.status_code == 302
    assert Order.objects.get().ship_line1 == "1 Main Street"
    assert BuyerAddress.objects.filter(user=user).count() == 2
