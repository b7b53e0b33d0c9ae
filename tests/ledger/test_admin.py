import pytest
from django.urls import reverse

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import Leg, ledger_post
from marketplace.money import Money
from tests.accounts.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_staff_can_read_the_ledger_but_not_change_it(client):
    ledger_post(
        idempotency_key="order-paid:1",
        kind="order_paid",
        legs=[
            Leg(accounts.gateway_cash("USD"), Money(100, "USD")),
            Leg(accounts.seller_pending(1, "USD"), Money(-100, "USD")),
        ],
    )
    posted = LedgerTransaction.objects.get()
    client.force_login(StaffUserFactory())

    assert client.get(reverse("admin:ledger_ledgertransaction_changelist")).status_code == 200
    detail = client.get(reverse("admin:ledger_ledgertransaction_change", args=[posted.pk]))
    assert detail.status_code == 200
    assert "seller:1:pending:USD" in detail.content.decode()
    assert client.get(reverse("admin:ledger_ledgertransaction_add")).status_code == 403
    assert (
        client.get(reverse("admin:ledger_ledgertransaction_delete", args=[posted.pk])).status_code
        == 403
    )
    assert client.get(reverse("admin:ledger_ledgeraccount_changelist")).status_code == 200
