"""The payout job on two workers at once, with real threads on PostgreSQL: each due seller gets
one payout, one transfer at the gateway and one ledger transaction of each kind."""

import uuid

import pytest
from django.db.models import Count

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from marketplace.payments.models import LocalConnectedAccount, LocalTransfer
from sellers.models import Payout
from sellers.services.payouts import payouts_create_due, payouts_run
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres
from tests.sellers.factories import ApprovedSellerFactory, PayoutAccountFactory

pytestmark = [
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]

USD = "USD"


def payable_seller(available: int):
    seller = ApprovedSellerFactory()
    account = PayoutAccountFactory(seller=seller)
    LocalConnectedAccount.objects.create(
        external_id=account.external_id,
        email=seller.contact_email,
        country="US",
        details_submitted=True,
    )
    ledger_post(
        idempotency_key=f"test-credit:{uuid.uuid4().hex}",
        kind="test_credit",
        legs=[
            Leg(accounts.gateway_cash(USD), Money(available, USD)),
            Leg(accounts.seller_available(seller.pk, USD), Money(-available, USD)),
        ],
    )
    return seller


def assert_paid_once(sellers, amounts):
    assert Payout.objects.count() == len(sellers)
    per_seller = dict(Payout.objects.values_list("seller_id").annotate(n=Count("id")))
    assert per_seller == {s.pk: 1 for s in sellers}
    assert set(Payout.objects.values_list("status", flat=True)) == {Payout.Status.PAID}
    assert sorted(Payout.objects.values_list("amount_minor", flat=True)) == sorted(amounts)
    assert LocalTransfer.objects.count() == len(sellers)
    assert set(LocalTransfer.objects.values_list("idempotency_key", flat=True)) == set(
        Payout.objects.values_list("idempotency_key", flat=True)
    )
    for kind in ("payout_created", "payout_paid"):
        assert LedgerTransaction.objects.filter(kind=kind).count() == len(sellers)
    for seller in sellers:
        assert ledger_balance(accounts.seller_available(seller.pk, USD)).amount_minor == 0
        assert ledger_balance(accounts.seller_payout_in_transit(seller.pk, USD)).amount_minor == 0


def test_two_payout_runs_at_once_pay_each_seller_once():
    amounts = [2000 + i for i in range(6)]
    sellers = [payable_seller(amount) for amount in amounts]

    results = run_at_once(2, lambda i: payouts_run(sleep=lambda s: None))

    assert sum(result["created"] for result in results) == len(sellers)
    assert_paid_once(sellers, amounts)


def test_four_creators_at_once_create_one_payout_per_seller():
    amounts = [1500 + i for i in range(5)]
    sellers = [payable_seller(amount) for amount in amounts]

    results = run_at_once(4, lambda i: payouts_create_due())

    assert sorted(pk for created in results for pk in created) == sorted(
        Payout.objects.values_list("id", flat=True)
    )
    assert Payout.objects.count() == len(sellers)
    assert LedgerTransaction.objects.filter(kind="payout_created").count() == len(sellers)
    # and the send step, twice at once, transfers each once
    run_at_once(2, lambda i: payouts_run(sleep=lambda s: None))
    assert_paid_once(sellers, amounts)
