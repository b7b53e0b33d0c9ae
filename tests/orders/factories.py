import factory

from catalog.models import SKU
from orders.models import BuyerAddress, Cart, CartLine, Checkout, Order
from orders.services.checkout import checkout_place
from sellers.models import ShippingTemplate
from tests.accounts.factories import UserFactory
from tests.catalog.factories import LiveProductFactory, SKUFactory


class BuyerAddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuyerAddress

    user = factory.SubFactory(UserFactory)
    name = factory.Faker("name")
    line1 = "10 Elm Street"
    city = "Springfield"
    region = "IL"
    postal_code = "62701"
    country = "US"
    phone = "+1 555 0199"
    is_default = True


class ShippingTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShippingTemplate

    flat_fee_minor = 500
    free_shipping_threshold_minor = 5000


def buyable_sku(*, price_minor: int = 2500, stock: int = 10, seller=None, **product) -> SKU:
    """A SKU of a live product of an approved seller."""
    if seller is not None:
        product["seller"] = seller
    return SKUFactory(
        product=LiveProductFactory(**product), price_minor=price_minor, stock_on_hand=stock
    )


def cart_with(user, *lines: tuple[SKU, int]) -> Cart:
    cart, _ = Cart.objects.get_or_create(user=user)
    for sku, quantity in lines:
        CartLine.objects.create(cart=cart, sku=sku, quantity=quantity)
    return cart


def paid_order(buyer=None) -> Order:
    """An order of one buyable SKU that `buyer` (a new user by default) checked out and paid by
    card; with several orders, the latest."""
    buyer = buyer or UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method="4242424242424242"
    )
    return Order.objects.filter(buyer=buyer).latest("id")


def failed_checkout() -> Checkout:
    """A checkout of one buyable SKU by a new user whose card was declined."""
    buyer = UserFactory()
    cart_with(buyer, (buyable_sku(), 1))
    return checkout_place(
        buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method="4000000000000002"
    )


def checkout_page_fields(client) -> dict[str, str]:
    """The hidden fields of the checkout page as a browser would send them back: the page's
    submit token and the total it showed."""
    import re

    from django.urls import reverse

    page = client.get(reverse("checkout:start")).content.decode()
    return dict(
        re.findall(
            r'<input type="hidden" name="(submit_token|expected_total_minor)" value="([^"]*)"', page
        )
    )
