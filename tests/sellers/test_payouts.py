"""The payout job (sellers.services.payouts): who is due, the ledger moves, failures, retries."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from marketplace.payments import local_money
from marketplace.payments.gateway import GatewayUnavailable
from marketplace.payments.local import LocalGateway
from marketplace.payments.models import LocalConnectedAccount, LocalTransfer
from marketplace.payments.webhooks import StripeEvent, webhook_handlers_for
from marketplace.state import transition
from orders.models import ORDER_MACHINE, Order, OrderStatus
from orders.services.settlement import orders_settle_due
from sellers import tasks
from sellers.models import PAYOUT_MACHINE, Payout
from sellers.services import payouts as payouts_module
from sellers.services.payouts import (
    PayoutNotPossible,
    RateLimiter,
    payout_mark_failed,
    payout_retry,
    payouts_create_due,
    payouts_reconcile,
    payouts_run,
)
from tests.orders.factories import order_with_lines
from tests.sellers.factories import ApprovedSellerFactory, PayoutAccountFactory

pytestmark = pytest.mark.django_db

USD = "USD"


def payable_seller(*, available=5000, onboarded=True, payouts_enabled=True):
    """An approved seller with a payout account (known to the local gateway, onboarded or not)
    and `available` settled money on its ledger."""
    seller = ApprovedSellerFactory()
    account = PayoutAccountFactory(seller=seller, payouts_enabled=payouts_enabled)
    LocalConnectedAccount.objects.create(
        external_id=account.external_id,
        email=seller.contact_email,
        country="US",
        details_submitted=onboarded,
    )
    if available:
        credit(seller, available)
    return seller


def credit(seller, amount_minor):
    ledger_post(
        idempotency_key=f"test-credit:{uuid.uuid4().hex}",
        kind="test_credit",
        legs=[
            Leg(accounts.gateway_cash(USD), Money(amount_minor, USD)),
            Leg(accounts.seller_available(seller.pk, USD), Money(-amount_minor, USD)),
        ],
    )


def open_debt(seller, amount_minor):
    ledger_post(
        idempotency_key=f"test-debt:{uuid.uuid4().hex}",
        kind="test_debt",
        legs=[
            Leg(accounts.seller_debt(seller.pk, USD), Money(amount_minor, USD)),
            Leg(accounts.gateway_cash(USD), Money(-amount_minor, USD)),
        ],
    )


def available(seller) -> int:
    return ledger_balance(accounts.seller_available(seller.pk, USD)).amount_minor


def in_transit(seller) -> int:
    return ledger_balance(accounts.seller_payout_in_transit(seller.pk, USD)).amount_minor


def cash() -> int:
    return ledger_balance(accounts.gateway_cash(USD)).amount_minor


def no_sleep(seconds):
    pass


def run(**kwargs):
    return payouts_run(sleep=no_sleep, **kwargs)


# --- Who is due ---------------------------------------------------------------------------------


def test_a_seller_with_enough_available_money_is_paid_all_of_it():
    seller = payable_seller(available=5000)
    cash_before = cash()

    result = run()

    payout = Payout.objects.get(seller=seller)
    assert result == {"created": 1, "paid": 1, "in_transit": 0, "failed": 0, "pending": 0}
    assert (payout.status, payout.amount_minor, payout.currency) == ("paid", 5000, USD)
    assert payout.idempotency_key == f"transfer:payout:{payout.pk}"
    assert payout.destination == seller.payout_account.external_id
    assert payout.attempts == 1
    assert payout.sent_at and payout.paid_at
    transfer = LocalTransfer.objects.get()
    assert payout.gateway_transfer_id == transfer.external_id
    assert (transfer.amount_minor, transfer.idempotency_key) == (5000, payout.idempotency_key)
    assert transfer.destination.external_id == payout.destination
    assert transfer.transfer_group == f"payout-{payout.pk}"
    # available -> in transit -> out of the platform's cash
    assert (available(seller), in_transit(seller)) == (0, 0)
    assert cash() == cash_before - 5000


def test_a_real_sale_settles_then_is_paid_out_to_the_cent():
    seller = payable_seller(available=0)
    order = order_with_lines(seller, (2500, 2))
    for step in (
        OrderStatus.AWAITING_SHIPMENT,
        OrderStatus.IN_TRANSIT,
        OrderStatus.DELIVERED,
        OrderStatus.COMPLETED,
    ):
        transition(ORDER_MACHINE, instance=order, to_status=step)
    Order.objects.filter(pk=order.pk).update(completed_at=timezone.now() - timedelta(days=8))
    order.refresh_from_db()
    net = order.total_minor - order.commission_minor

    assert run()["created"] == 0  # still pending, nothing available
    orders_settle_due()
    assert available(seller) == net
    run()

    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.amount_minor) == ("paid", net)
    assert available(seller) == in_transit(seller) == 0
    assert ledger_balance(accounts.seller_pending(seller.pk, USD)).amount_minor == 0


def test_the_ledger_moves_available_to_in_transit_then_to_cash_out():
    seller = payable_seller(available=2500)
    run()
    payout = Payout.objects.get(seller=seller)

    created = LedgerTransaction.objects.get(idempotency_key=f"payout-created:{payout.pk}")
    paid = LedgerTransaction.objects.get(idempotency_key=f"payout-paid:{payout.pk}")

    def legs(txn):
        return sorted(txn.entries.values_list("account__code", "amount_minor"))

    available_code = accounts.seller_available(seller.pk, USD)[0]
    transit_code = accounts.seller_payout_in_transit(seller.pk, USD)[0]
    assert legs(created) == sorted([(available_code, 2500), (transit_code, -2500)])
    assert legs(paid) == sorted([(transit_code, 2500), ("gateway:cash:USD", -2500)])
    assert created.reference == paid.reference == f"payout:{payout.pk}"


def test_below_the_minimum_nothing_is_paid(settings):
    settings.PAYOUT_MINIMUM_MINOR = 1000
    poor = payable_seller(available=999)
    just_enough = payable_seller(available=1000)

    created = payouts_create_due()

    assert list(Payout.objects.values_list("id", flat=True)) == created
    assert Payout.objects.get().seller == just_enough
    assert not Payout.objects.filter(seller=poor).exists()
    assert available(poor) == 999


def test_a_seller_whose_payouts_are_not_enabled_is_not_paid():
    seller = payable_seller(payouts_enabled=False)
    assert payouts_create_due() == []
    assert available(seller) == 5000


def test_a_seller_without_a_payout_account_is_not_paid():
    seller = ApprovedSellerFactory()
    credit(seller, 5000)
    assert payouts_create_due() == []


def test_no_payout_while_a_debt_is_open():
    seller = payable_seller(available=5000)
    open_debt(seller, 300)

    assert payouts_create_due() == []
    assert available(seller) == 5000


def test_no_second_payout_while_one_is_in_flight():
    seller = payable_seller(available=5000)
    [first] = payouts_create_due()
    credit(seller, 4000)  # more money settles while the first is pending

    assert payouts_create_due() == []
    transition(PAYOUT_MACHINE, pk=first, to_status=Payout.Status.IN_TRANSIT)
    assert payouts_create_due() == []
    assert Payout.objects.filter(seller=seller).count() == 1
    assert available(seller) == 4000


def test_a_rerun_creates_and_transfers_nothing_more():
    sellers = [payable_seller(available=3000 + i) for i in range(3)]
    run()

    assert run() == {"created": 0, "paid": 0, "in_transit": 0, "failed": 0, "pending": 0}
    assert Payout.objects.count() == 3
    assert LocalTransfer.objects.count() == 3
    assert LedgerTransaction.objects.filter(kind="payout_created").count() == 3
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 3
    assert [available(s) for s in sellers] == [0, 0, 0]


def test_the_next_payout_takes_what_settled_since():
    seller = payable_seller(available=5000)
    run()
    credit(seller, 1500)
    run()
    assert sorted(Payout.objects.values_list("amount_minor", flat=True)) == [1500, 5000]
    assert available(seller) == 0


def test_the_task_runs_the_job_and_records_who_asked(staff):
    seller = payable_seller(available=5000)
    result = tasks.run_payouts.delay(staff.pk)
    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.requested_by) == (Payout.Status.PAID, staff)
    assert result.get()["paid"] == 1


# --- Failures and retries -----------------------------------------------------------------------


def test_a_refused_transfer_fails_the_payout_returns_the_money_and_tells_the_seller_why(
    django_capture_on_commit_callbacks, mailoutbox
):
    seller = payable_seller(available=5000, onboarded=False)

    with django_capture_on_commit_callbacks(execute=True):
        result = run()

    payout = Payout.objects.get(seller=seller)
    assert result["failed"] == 1
    assert payout.status == Payout.Status.FAILED
    assert "not finished onboarding" in payout.failure_reason
    assert payout.failed_at
    assert not LocalTransfer.objects.exists()
    assert (available(seller), in_transit(seller)) == (5000, 0)
    assert LedgerTransaction.objects.filter(idempotency_key=f"payout-failed:{payout.pk}").exists()
    [mail] = mailoutbox
    assert mail.to == [seller.contact_email]
    assert "$50.00" in mail.subject
    assert "not finished onboarding" in mail.body
    assert "back in your available balance" in mail.body


def test_a_failed_payout_is_not_retried_by_itself_but_the_money_is_paid_next_run():
    seller = payable_seller(available=5000, onboarded=False)
    run()
    LocalConnectedAccount.objects.filter(external_id=seller.payout_account.external_id).update(
        details_submitted=True
    )

    run()

    statuses = sorted(Payout.objects.filter(seller=seller).values_list("status", flat=True))
    assert statuses == ["failed", "paid"]
    assert available(seller) == 0
    assert LocalTransfer.objects.count() == 1


def test_staff_retry_a_failed_payout(staff):
    seller = payable_seller(available=5000, onboarded=False)
    run()
    failed = Payout.objects.get(seller=seller)
    LocalConnectedAccount.objects.filter(external_id=failed.destination).update(
        details_submitted=True
    )

    again = payout_retry(payout_id=failed.pk, actor=staff)

    assert again.pk != failed.pk
    assert (again.status, again.amount_minor, again.requested_by) == ("paid", 5000, staff)
    assert available(seller) == 0
    with pytest.raises(PayoutNotPossible):
        payout_retry(payout_id=again.pk, actor=staff)  # not a failed one
    with pytest.raises(PayoutNotPossible):
        payout_retry(payout_id=failed.pk, actor=staff)  # nothing left to pay


def test_an_unreachable_gateway_leaves_the_payout_pending_and_the_next_run_uses_the_same_key(
    monkeypatch,
):
    seller = payable_seller(available=5000)

    class Down(LocalGateway):
        def transfer_create(self, **kwargs):
            raise GatewayUnavailable("timeout")

    monkeypatch.setattr(payouts_module, "get_gateway", Down)
    assert run()["pending"] == 1
    payout = Payout.objects.get(seller=seller)
    assert (payout.status, payout.attempts) == ("pending", 1)
    assert in_transit(seller) == 5000

    monkeypatch.setattr(payouts_module, "get_gateway", LocalGateway)
    assert run() == {"created": 0, "paid": 1, "in_transit": 0, "failed": 0, "pending": 0}
    payout.refresh_from_db()
    assert (payout.status, payout.attempts) == ("paid", 2)
    assert LocalTransfer.objects.get().idempotency_key == payout.idempotency_key


def test_a_transfer_made_before_a_crash_is_found_again_not_made_twice():
    """The worker died after the gateway wrote the transfer and before we recorded it."""
    seller = payable_seller(available=5000)
    [payout_id] = payouts_create_due()
    payout = Payout.objects.get(pk=payout_id)
    earlier = local_money.local_transfer_create(
        amount_minor=5000,
        currency=USD,
        destination=payout.destination,
        source_transaction="",
        transfer_group=f"payout-{payout.pk}",
        idempotency_key=payout.idempotency_key,
    )

    run()

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert payout.gateway_transfer_id == earlier.id
    assert LocalTransfer.objects.count() == 1
    assert available(seller) == in_transit(seller) == 0


def test_the_gateway_is_called_at_most_the_configured_times_a_second(settings):
    settings.PAYOUT_GATEWAY_CALLS_PER_SECOND = 4
    for _ in range(5):
        payable_seller(available=2000)
    now = [100.0]
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    payouts_run(clock=lambda: now[0], sleep=sleep)

    assert Payout.objects.filter(status="paid").count() == 5
    assert sleeps == pytest.approx([0.25] * 4)


def test_the_rate_limiter_does_not_sleep_when_calls_are_far_enough_apart():
    now = [0.0]
    sleeps = []
    limiter = RateLimiter(per_second=2, clock=lambda: now[0], sleep=sleeps.append)
    limiter.wait()
    now[0] = 1.0
    limiter.wait()
    now[0] = 1.1
    limiter.wait()
    assert sleeps == pytest.approx([0.4])


# --- Stripe outcomes (webhooks) and reconciliation -----------------------------------------------


def in_transit_payout(seller, transfer_id="tr_stripe_1"):
    [payout_id] = payouts_create_due()
    transition(
        PAYOUT_MACHINE,
        pk=payout_id,
        to_status=Payout.Status.IN_TRANSIT,
        fields={"gateway_transfer_id": transfer_id, "sent_at": timezone.now()},
    )
    return Payout.objects.get(pk=payout_id)


def event(event_type, obj, account=""):
    return StripeEvent(
        id=f"evt_{uuid.uuid4().hex}",
        type=event_type,
        created=timezone.now(),
        account=account,
        livemode=False,
        object=obj,
    )


def handle(evt):
    return [handler(evt) for handler in webhook_handlers_for(evt.type)]


def test_a_reversed_transfer_fails_the_payout_and_returns_the_money(
    django_capture_on_commit_callbacks, mailoutbox
):
    seller = payable_seller(available=5000)
    payout = in_transit_payout(seller)
    obj = {"id": "tr_stripe_1", "amount": 5000, "amount_reversed": 5000, "reversed": True}

    with django_capture_on_commit_callbacks(execute=True):
        handle(event("transfer.reversed", obj))
        handle(event("transfer.reversed", obj))  # delivered twice

    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED
    assert "reversed" in payout.failure_reason
    assert (available(seller), in_transit(seller)) == (5000, 0)
    assert len(mailoutbox) == 1


def test_a_partial_reversal_and_an_unknown_transfer_change_nothing():
    seller = payable_seller(available=5000)
    payout = in_transit_payout(seller)

    partial = {"id": "tr_stripe_1", "amount": 5000, "amount_reversed": 100, "reversed": False}
    assert handle(event("transfer.reversed", partial)) == [
        "partial reversal: needs a manual adjustment"
    ]
    assert handle(event("transfer.reversed", {"id": "tr_other"})) == ["not a payout"]
    payout.refresh_from_db()
    assert payout.status == Payout.Status.IN_TRANSIT


def test_payout_paid_on_the_connected_account_pays_the_payouts_in_transit():
    seller = payable_seller(available=5000)
    payout = in_transit_payout(seller)
    later = int((timezone.now() + timedelta(minutes=1)).timestamp())
    account = seller.payout_account.external_id

    handle(event("payout.paid", {"id": "po_1", "created": later}, account=account))
    handle(event("payout.paid", {"id": "po_1", "created": later}, account=account))

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert (available(seller), in_transit(seller)) == (0, 0)
    assert LedgerTransaction.objects.filter(kind="payout_paid").count() == 1
    # A failed bank payout leaves our ledger alone: the money is on the seller's account.
    assert handle(event("payout.failed", {"id": "po_2"}, account=account))[0].startswith("bank")


def test_reconcile_lists_the_payouts_in_transit_too_long():
    seller = payable_seller(available=5000)
    payout = in_transit_payout(seller)
    assert payouts_reconcile() == []
    assert payouts_reconcile(now=timezone.now() + timedelta(hours=2)) == [payout.pk]


# --- Found in review: a failure that was not one, debt beside returned money ----------------------


def test_a_payout_returned_while_a_debt_opened_repays_the_debt_first():
    seller = payable_seller(available=5000)
    payout_id = payouts_create_due(seller_ids=[seller.pk])[0]
    open_debt(seller, 2000)  # a refund after settlement, while the payout was on its way

    payout_mark_failed(payout_id=payout_id, reason="The bank returned it.")

    assert available(seller) == 3000
    assert ledger_balance(accounts.seller_debt(seller.pk, USD)).amount_minor == 0
    assert in_transit(seller) == 0


def test_the_ledger_refuses_a_payout_while_a_debt_is_open():
    from marketplace.ledger.journal import InsufficientBalance, journal_seller_payout_created

    seller = payable_seller(available=5000)
    open_debt(seller, 100)
    with pytest.raises(InsufficientBalance):
        journal_seller_payout_created(payout_id=10**9, seller_id=seller.pk, amount=Money(100, USD))


def test_a_busy_or_failing_provider_leaves_the_payout_pending_not_failed(monkeypatch):
    """Stripe's 409 (same key in flight), 429 and 5xx may have taken effect: GatewayUnavailable,
    so the payout is retried with its key instead of being failed and paid again."""
    import stripe

    from marketplace.payments.stripe_gateway import _translated_errors

    for status in (409, 429, 500, 503):
        with pytest.raises(GatewayUnavailable), _translated_errors("send a transfer"):
            raise stripe.APIError("busy", http_status=status)
