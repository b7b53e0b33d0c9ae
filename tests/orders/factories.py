import factory

from catalog.models import SKU
from marketplace.state import transition
from orders.models import (
    ORDER_MACHINE,
    BuyerAddress,
    Cart,
    CartLine,
    Checkout,
    Order,
    OrderStatus,
)
from orders.services.checkout import checkout_place
from orders.services.transitions import order_transition
from sellers.models import ShippingTemplate
from tests.accounts.factories import UserFactory
from tests.catalog.factories import LiveProductFactory, SKUFactory

PAID_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"

# Tracking numbers the carriers accept (UPS check digit valid; the demo carrier's DP + 10 digits).
UPS = "1Z999AA10123456784"
UPS_2 = "1Z999AA10123456785"
DEMO = "DP0123456789"


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


def on_hold_order(*, buyer=None, seller=None, quantity=2, stock=10, price_minor=2500) -> Order:
    """A paid (on hold) order of `quantity` units of one SKU with `stock` units left before."""
    buyer = buyer or UserFactory()
    sku = buyable_sku(seller=seller, stock=stock, price_minor=price_minor)
    cart_with(buyer, (sku, quantity))
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD)
    order = Order.objects.filter(buyer=buyer).latest("id")
    assert order.status == OrderStatus.ON_HOLD
    return order


def seller_paid_order(seller, *, buyer=None, quantity=1, price_minor=2500, card=PAID_CARD) -> Order:
    """One checkout of one product of `seller`: a paid (on hold) order, or an unpaid one when
    `card` is declined."""
    buyer = buyer or UserFactory()
    cart_with(buyer, (buyable_sku(seller=seller, price_minor=price_minor), quantity))
    address = BuyerAddressFactory(user=buyer)
    checkout_place(buyer=buyer, address=address, payment_method=card)
    return Order.objects.filter(buyer=buyer).latest("id")


def order_with_lines(seller, *lines: tuple[int, int], buyer=None) -> Order:
    """A paid (on hold) order of `seller`: one line per (price_minor, quantity), each SKU with 5
    units to spare; one line of $25.00 when no line is given."""
    buyer = buyer or UserFactory()
    cart_with(
        buyer,
        *(
            (buyable_sku(seller=seller, price_minor=price, stock=quantity + 5), quantity)
            for price, quantity in (lines or ((2500, 1),))
        ),
    )
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD)
    return Order.objects.filter(buyer=buyer).latest("id")


def ready_to_ship(seller, *lines, buyer=None) -> Order:
    """An `order_with_lines` out of the hold: awaiting shipment."""
    order = order_with_lines(seller, *lines, buyer=buyer)
    order_transition(order=order, to_status=OrderStatus.AWAITING_SHIPMENT)
    order.refresh_from_db()
    return order


def titled_order(seller, buyer, *, title, quantity=1) -> Order:
    """A paid (on hold) order by `buyer` of `quantity` units of a $34.50 product of `seller`
    called `title`."""
    cart_with(buyer, (buyable_sku(seller=seller, title=title, price_minor=3450), quantity))
    checkout_place(buyer=buyer, address=BuyerAddressFactory(user=buyer), payment_method=PAID_CARD)
    return Order.objects.filter(buyer=buyer).latest("id")


def order_in(status: str, *, buyer=None, **fields) -> Order:
    """A paid order moved along the machine to `status` (each step through marketplace.state),
    then given `fields`."""
    order = paid_order(buyer)
    path = {
        OrderStatus.ON_HOLD: [],
        OrderStatus.AWAITING_SHIPMENT: [OrderStatus.AWAITING_SHIPMENT],
        OrderStatus.AWAITING_COLLECTION: [
            OrderStatus.AWAITING_SHIPMENT,
            OrderStatus.AWAITING_COLLECTION,
        ],
        OrderStatus.IN_TRANSIT: [OrderStatus.AWAITING_SHIPMENT, OrderStatus.IN_TRANSIT],
        OrderStatus.DELIVERED: [
            OrderStatus.AWAITING_SHIPMENT,
            OrderStatus.IN_TRANSIT,
            OrderStatus.DELIVERED,
        ],
    }[status]
    for step in path:
        transition(ORDER_MACHINE, instance=order, to_status=step)
    if fields:
        Order.objects.filter(pk=order.pk).update(**fields)
        order.refresh_from_db()
    return order


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
