from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError, InternalError
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.ledger.services import (
    IdempotencyConflict,
    Leg,
    UnbalancedTransaction,
    ledger_balance,
    ledger_post,
)
from marketplace.money import Money

pytestmark = pytest.mark.django_db

CASH = accounts.gateway_cash("USD")
SELLER = accounts.seller_pending(1, "USD")
COMMISSION = accounts.platform_commission_pending("USD")


def usd(minor):
    return Money(minor, "USD")


def pay(key="order-paid:1", total=1000, commission=20):
    return ledger_post(
        idempotency_key=key,
        kind="order_paid",
        legs=[
            Leg(CASH, usd(total)),
            Leg(SELLER, usd(-(total - commission))),
            Leg(COMMISSION, usd(-commission)),
        ],
    )


def test_a_balanced_transaction_posts_its_entries_and_moves_balances():
    pay()

    assert ledger_balance(CASH) == usd(1000)
    assert ledger_balance(SELLER) == usd(980)
    assert ledger_balance(COMMISSION) == usd(20)
    assert LedgerEntry.objects.count() == 3


@pytest.mark.parametrize(
    "legs",
    [
        [Leg(CASH, usd(100)), Leg(SELLER, usd(-99))],
        [Leg(CASH, usd(100))],
        [Leg(CASH, usd(0)), Leg(SELLER, usd(0))],
        [Leg(CASH, usd(100)), Leg(accounts.seller_pending(1, "EUR"), Money(-100, "EUR"))],
        [Leg(CASH, Money(100, "EUR")), Leg(SELLER, Money(-100, "EUR"))],
    ],
    ids=["unbalanced", "one leg", "zero legs", "two currencies", "account of another currency"],
)
def test_an_unbalanced_transaction_is_refused_and_nothing_is_written(legs):
    with pytest.raises(UnbalancedTransaction):
        ledger_post(idempotency_key="bad", kind="test", legs=legs)

    assert not LedgerTransaction.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_posting_the_same_key_twice_posts_once():
    first = pay()
    second = pay()

    assert first.pk == second.pk
    assert LedgerEntry.objects.count() == 3
    assert ledger_balance(CASH) == usd(1000)


def test_reusing_a_key_for_other_amounts_is_a_conflict():
    pay(total=1000)

    with pytest.raises(IdempotencyConflict):
        pay(total=2000)
    assert ledger_balance(CASH) == usd(1000)


def test_entries_cannot_be_updated_or_deleted_through_the_models():
    pay()
    entry = LedgerEntry.objects.first()
    stored = list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount_minor"))

    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        LedgerEntry.objects.update(amount_minor=1)
    with pytest.raises(PermissionError):
        LedgerEntry.objects.all().delete()

    assert list(LedgerEntry.objects.order_by("pk").values_list("pk", "amount_minor")) == stored


def test_the_database_refuses_an_update_of_an_entry():
    pay()

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_ledgerentry SET amount_minor = amount_minor + 1")
    assert ledger_balance(CASH) == usd(1000)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="deferred constraint triggers are PostgreSQL's"
)
def test_postgresql_refuses_an_unbalanced_transaction_written_around_the_service():
    pay()
    ledger_transaction = LedgerTransaction.objects.get()
    account_id = LedgerEntry.objects.first().account_id

    with (
        pytest.raises(InternalError, match="does not balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO ledger_ledgerentry"
            " (transaction_id, account_id, amount_minor, currency, posted_at)"
            " VALUES (%s, %s, 5, 'USD', now())",
            [ledger_transaction.pk, account_id],
        )
        # The check is deferred to commit; ask for it now, inside the test's transaction.
        cursor.execute("SET CONSTRAINTS ledger_entry_balanced IMMEDIATE")
    assert LedgerEntry.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="delete triggers are PostgreSQL's")
def test_postgresql_refuses_a_delete_of_an_entry():
    pay()

    with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_ledgerentry")
    assert LedgerEntry.objects.count() == 3


def test_a_balance_can_be_read_as_of_a_past_moment():
    yesterday = timezone.now() - timedelta(days=1)
    ledger_post(
        idempotency_key="old",
        kind="order_paid",
        legs=[Leg(CASH, usd(500)), Leg(SELLER, usd(-500))],
        posted_at=yesterday,
    )
    pay()

    assert ledger_balance(CASH, as_of=yesterday) == usd(500)
    assert ledger_balance(CASH, as_of=yesterday - timedelta(seconds=1)) == usd(0)
    assert ledger_balance(CASH) == usd(1500)
