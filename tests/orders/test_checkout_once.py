"""A checkout is paid once, for what the shopper saw, and a declined card cannot hoard stock.

Each test here reproduces a defect found by black-box testing over HTTP: four concurrent submits
of one checkout charged three times; a price raised while the checkout page was open was charged
without warning; every declined checkout kept its units reserved for 30 minutes.
"""

import re
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from catalog.models import SKU
from marketplace.payments.local_money import card_outcome
from marketplace.payments.models import LocalPayment
from orders.models import BuyerAddress, Checkout, CheckoutStatus, Order, OrderStatus
from orders.services.checkout import (
    CheckoutInProgress,
    PriceChanged,
    checkout_place,
    checkout_retry_payment,
)
from orders.services.reservations import orders_expire_unpaid
from tests.accounts.factories import UserFactory
from tests.orders.factories import (
    BuyerAddressFactory,
    buyable_sku,
    cart_with,
    checkout_page_fields,
)

pytestmark = pytest.mark.django_db

GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
NEW_ADDRESS = {
    "name": "Ada Buyer",
    "line1": "1 Main Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "US",
    "save_address": "on",
}


def checkout_id_of(location: str) -> int:
    return int(re.search(r"/checkout/(\d+)/", location).group(1))


def charges() -> int:
    return LocalPayment.objects.filter(status=LocalPayment.Status.SUCCEEDED).count()


# --- The same page submitted again


def test_the_same_page_submitted_again_answers_with_the_first_checkout_and_charges_once(client):
    user = UserFactory()
    client.force_login(user)
    sku = buyable_sku(stock=20)
    cart_with(user, (sku, 1))
    form = {**NEW_ADDRESS, **checkout_page_fields(client), "card_number": GOOD_CARD}

    first = client.post(reverse("checkout:start"), form)
    again = client.post(reverse("checkout:start"), form)  # a browser resubmit: the cart is empty

    checkout = Checkout.objects.get()
    assert first["Location"] == again["Location"] == reverse("checkout:done", args=[checkout.id])
    assert charges() == 1
    assert SKU.objects.get(id=sku.id).stock_on_hand == 19
    assert BuyerAddress.objects.filter(user=user).count() == 1


def test_a_replayed_declined_submit_shows_the_first_ones_failure_without_a_second_attempt(client):
    user = UserFactory()
    client.force_login(user)
    cart_with(user, (buyable_sku(stock=20), 1))
    form = {**NEW_ADDRESS, **checkout_page_fields(client), "card_number": DECLINED_CARD}

    first = client.post(reverse("checkout:start"), form)
    again = client.post(reverse("checkout:start"), form)

    checkout = Checkout.objects.get()
    assert first["Location"] == again["Location"] == reverse("checkout:pay", args=[checkout.id])
    assert LocalPayment.objects.count() == 1
    assert checkout.payment_attempts == 1


def test_a_checkout_page_without_its_token_or_total_places_nothing(client):
    user = UserFactory()
    client.force_login(user)
    cart_with(user, (buyable_sku(), 1))
    response = client.post(reverse("checkout:start"), {**NEW_ADDRESS, "card_number": GOOD_CARD})
    assert response.status_code == 200
    assert "This page was out of date" in response.content.decode()
    assert not Checkout.objects.exists() and charges() == 0


def test_a_second_tab_while_a_payment_is_being_confirmed_is_sent_to_that_checkout():
    buyer = UserFactory()
    address = BuyerAddressFactory(user=buyer)
    cart_with(buyer, (buyable_sku(stock=5), 1))
    waiting = checkout_place(buyer=buyer, address=address, payment_method=DECLINED_CARD)
    # The provider is still confirming a retry (3-D Secure, a slow bank): the checkout is open.
    Checkout.objects.filter(id=waiting.id).update(status=CheckoutStatus.OPEN)

    with pytest.raises(CheckoutInProgress) as raised:
        checkout_place(
            buyer=buyer, address=address, payment_method=GOOD_CARD, submit_token="t" * 20
        )

    assert raised.value.checkout.id == waiting.id
    assert Checkout.objects.count() == 1 and charges() == 0


# --- What the shopper saw is what is charged


def test_a_price_raised_while_the_page_was_open_is_shown_for_confirmation_not_charged(client):
    user = UserFactory()
    client.force_login(user)
    address = BuyerAddressFactory(user=user)
    sku = buyable_sku(price_minor=1499, stock=20, title="Blue kettle")
    cart_with(user, (sku, 1))
    shown = checkout_page_fields(client)
    assert shown["expected_total_minor"] == "1499"
    SKU.objects.filter(id=sku.id).update(price_minor=2500)  # the seller, meanwhile

    response = client.post(
        reverse("checkout:start"),
        {"saved_address": address.id, **shown, "card_number": GOOD_CARD},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "The total changed from $14.99 to $25.00" in page
    assert "This field is required" not in page  # the emptied card field is not an error
    assert not Checkout.objects.exists() and charges() == 0
    assert SKU.objects.get(id=sku.id).stock_on_hand == 20
    # The page now carries the new total: confirming it places the order at that price.
    confirmed = dict(
        re.findall(r'name="(submit_token|expected_total_minor)" value="([^"]*)"', page)
    )
    assert confirmed["expected_total_minor"] == "2500"
    response = client.post(
        reverse("checkout:start"),
        {"saved_address": address.id, **confirmed, "card_number": GOOD_CARD},
    )
    checkout = Checkout.objects.get()
    assert response["Location"] == reverse("checkout:done", args=[checkout.id])
    assert checkout.total_minor == 2500


def test_the_service_refuses_a_total_other_than_the_one_shown_and_writes_nothing():
    buyer = UserFactory()
    sku = buyable_sku(price_minor=1000, stock=3)
    cart_with(buyer, (sku, 2))
    with pytest.raises(PriceChanged) as raised:
        checkout_place(
            buyer=buyer,
            address=BuyerAddressFactory(user=buyer),
            payment_method=GOOD_CARD,
            expected_total_minor=1500,
        )
    assert raised.value.total_minor == 2000
    assert not Checkout.objects.exists() and not Order.objects.exists()
    assert SKU.objects.get(id=sku.id).stock_on_hand == 3


# --- Declined cards do not hoard stock


def test_a_new_checkout_releases_the_buyers_earlier_declined_reservation():
    buyer = UserFactory()
    address = BuyerAddressFactory(user=buyer)
    sku = buyable_sku(stock=4)
    cart_with(buyer, (sku, 2))

    first = checkout_place(buyer=buyer, address=address, payment_method=DECLINED_CARD)
    second = checkout_place(buyer=buyer, address=address, payment_method=DECLINED_CARD)

    first.refresh_from_db()
    assert first.status == CheckoutStatus.EXPIRED
    assert "Replaced by a newer checkout" in first.failure_message
    assert second.status == CheckoutStatus.FAILED
    # Two declined checkouts of two units each hold two units, not four.
    assert SKU.objects.get(id=sku.id).stock_on_hand == 2
    assert Order.objects.filter(status=OrderStatus.UNPAID).count() == 1
    assert Order.objects.get(checkout=first).status == OrderStatus.CANCELLED


def test_a_decline_cuts_the_reservation_to_the_declined_hold(settings):
    settings.CHECKOUT_DECLINED_HOLD_MINUTES = 10
    buyer = UserFactory()
    sku = buyable_sku(stock=3)
    cart_with(buyer, (sku, 1))
    before = timezone.now()
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=DECLINED_CARD
    )
    order = Order.objects.get(checkout=checkout)
    assert order.expires_at <= before + timedelta(minutes=10, seconds=5)

    assert orders_expire_unpaid(now=timezone.now() + timedelta(minutes=11)) == 1
    assert SKU.objects.get(id=sku.id).stock_on_hand == 3


def test_the_last_allowed_decline_releases_the_items_at_once(client, settings):
    settings.CHECKOUT_MAX_DECLINES = 3
    user = UserFactory()
    sku = buyable_sku(stock=3)
    cart_with(user, (sku, 1))
    checkout = checkout_place(
        buyer=user, address=BuyerAddressFactory(user=user), payment_method=DECLINED_CARD
    )
    checkout = checkout_retry_payment(checkout=checkout, payment_method=DECLINED_CARD)
    assert checkout.status == CheckoutStatus.FAILED
    assert SKU.objects.get(id=sku.id).stock_on_hand == 2

    checkout = checkout_retry_payment(checkout=checkout, payment_method=DECLINED_CARD)

    assert checkout.status == CheckoutStatus.EXPIRED
    assert SKU.objects.get(id=sku.id).stock_on_hand == 3
    assert Order.objects.get().status == OrderStatus.CANCELLED
    client.force_login(user)
    page = client.get(reverse("checkout:pay", args=[checkout.id])).content.decode()
    assert "its items were released" in page and "After 3 declined payments" in page
    assert 'name="card_number"' not in page


def test_an_unreachable_provider_is_not_counted_as_a_decline(settings, monkeypatch):
    from marketplace.payments import local
    from marketplace.payments.gateway import GatewayUnavailable

    settings.CHECKOUT_MAX_DECLINES = 1
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(stock=3), 1))

    def unreachable(*args, **kwargs):
        raise GatewayUnavailable("down")

    monkeypatch.setattr(local.LocalGateway, "payment_create", unreachable)
    checkout = checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=GOOD_CARD
    )
    assert checkout.status == CheckoutStatus.FAILED
    assert Checkout.objects.get().declines == 0
    assert Order.objects.get().status == OrderStatus.UNPAID


# --- Card digits


def test_a_card_number_in_other_scripts_digits_is_refused(client):
    arabic_indic = "٤٢٤٢٤٢٤٢٤٢٤٢٤٢٤٢"  # 4242... in Arabic-Indic digits
    assert card_outcome(arabic_indic) is not None  # the gateway refuses it too
    user = UserFactory()
    client.force_login(user)
    cart_with(user, (buyable_sku(), 1))
    response = client.post(
        reverse("checkout:start"),
        {**NEW_ADDRESS, **checkout_page_fields(client), "card_number": arabic_indic},
    )
    assert response.status_code == 200
    assert "12 to 19 digits (0-9)" in response.content.decode()
    assert not Checkout.objects.exists() and not LocalPayment.objects.exists()


def test_the_total_charged_matches_the_orders():
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(price_minor=700), 3))
    checkout = checkout_place(
        buyer=buyer,
        address=BuyerAddressFactory(user=buyer),
        payment_method=GOOD_CARD,
        expected_total_minor=2100,
    )
    assert checkout.status == CheckoutStatus.PAID
    total = Order.objects.aggregate(total=Sum("total_minor"))["total"]
    assert LocalPayment.objects.get().amount_minor == total == 2100
