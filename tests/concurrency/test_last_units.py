"""50 buyers race for the last 5 units of one SKU: exactly 5 are paid."""

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.models import SKU
from marketplace.errors import DomainError
from marketplace.ledger.models import LedgerEntry
from orders.models import Checkout, CheckoutStatus, Order, OrderStatus
from orders.services.checkout import checkout_place
from tests.accounts.factories import UserFactory
from tests.markers import needs_postgres
from tests.orders.factories import BuyerAddressFactory, buyable_sku, cart_with

BUYERS = 50
UNITS = 5

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def test_fifty_buyers_racing_for_the_last_five_units_get_exactly_five_orders():
    sku = buyable_sku(stock=UNITS, title="Last lamp")
    buyers = []
    for _ in range(BUYERS):
        buyer = UserFactory()
        cart_with(buyer, (sku, 1))
        buyers.append((buyer, BuyerAddressFactory(user=buyer)))

    start = threading.Barrier(BUYERS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def shop(buyer, address):
        try:
            start.wait()
            checkout = checkout_place(
                buyer=buyer, address=address, payment_method="4242424242424242"
            )
            outcome = checkout.status
        except DomainError as error:
            outcome = error.message
        except BaseException as error:  # a deadlock or anything unexpected fails the test
            with lock:
                errors.append(error)
            return
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=shop, args=pair) for pair in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert outcomes.count(CheckoutStatus.PAID) == UNITS
    assert outcomes.count("Sold out: Last lamp") == BUYERS - UNITS
    assert SKU.objects.get(id=sku.id).stock_on_hand == 0
    assert Checkout.objects.filter(status=CheckoutStatus.PAID).count() == UNITS
    assert Order.objects.filter(status=OrderStatus.ON_HOLD).count() == UNITS
    assert Order.objects.count() == UNITS
    assert LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] == 0
