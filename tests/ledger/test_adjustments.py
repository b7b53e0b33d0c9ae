"""Manual ledger adjustments (marketplace.ledger.adjustments): posted at once below the approval
threshold, approved by a second staff member from it up; a credit pays the seller (its debt
first), a debit takes from available and what that cannot cover becomes debt."""

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from marketplace.ledger import accounts
from marketplace.ledger.adjustments import (
    AdjustmentError,
    adjustment_approve,
    adjustment_create,
    adjustment_reject,
)
from marketplace.ledger.journal import journal_seller_adjusted
from marketplace.ledger.models import (
    LedgerAdjustment,
    LedgerAdjustmentEvent,
    LedgerEntry,
    LedgerTransaction,
)
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from tests.accounts.factories import StaffUserFactory
from tests.concurrency.threads import run_at_once
from tests.markers import needs_postgres

pytestmark = pytest.mark.django_db

SELLER_ID = 42
Status = LedgerAdjustment.Status


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR = 10_000


def usd(amount_minor: int) -> Money:
    return Money(amount_minor, "USD")


def available(seller_id=SELLER_ID) -> Money:
    return ledger_balance(accounts.seller_available(seller_id, "USD"))


def debt(seller_id=SELLER_ID) -> Money:
    return ledger_balance(accounts.seller_debt(seller_id, "USD"))


def platform_adjustments_raw() -> int:
    return (
        LedgerEntry.objects.filter(account__code="platform:adjustments:USD").aggregate(
            total=Sum("amount_minor")
        )["total"]
        or 0
    )


def ledger_total() -> int:
    return LedgerEntry.objects.aggregate(total=Sum("amount_minor"))["total"] or 0


def fund_available(amount_minor: int, seller_id=SELLER_ID) -> None:
    ledger_post(
        idempotency_key=f"test-settled:{seller_id}:{amount_minor}",
        kind="order_settled",
        legs=[
            Leg(accounts.gateway_cash("USD"), usd(amount_minor)),
            Leg(accounts.seller_available(seller_id, "USD"), usd(-amount_minor)),
        ],
    )


def put_in_debt(amount_minor: int, seller_id=SELLER_ID) -> None:
    ledger_post(
        idempotency_key=f"test-debt:{seller_id}:{amount_minor}",
        kind="order_refunded",
        legs=[
            Leg(accounts.seller_debt(seller_id, "USD"), usd(amount_minor)),
            Leg(accounts.gateway_cash("USD"), usd(-amount_minor)),
        ],
    )


def create(actor, **overrides):
    values = {
        "seller_id": SELLER_ID,
        "direction": "credit",
        "amount_minor": 2_500,
        "currency": "USD",
        "reason": "Shipping label charged twice",
        "actor": actor,
        "shop_name": "Teapot Town",
    }
    values.update(overrides)
    return adjustment_create(**values)


# --- below the threshold: posted at once -------------------------------------------------------


def test_a_credit_below_the_threshold_is_posted_at_once_to_the_sellers_available_balance():
    staff = StaffUserFactory()
    fund_available(1_000)

    adjustment = create(staff, amount_minor=2_500)

    adjustment.refresh_from_db()
    assert adjustment.status == Status.POSTED
    assert adjustment.posted_at is not None
    assert adjustment.approved_by is None
    posted = LedgerTransaction.objects.get(idempotency_key=f"adjustment:{adjustment.pk}")
    assert posted.kind == "adjustment"
    assert posted.reference == f"adjustment:{adjustment.pk}"
    assert "Shipping label charged twice" in posted.description
    assert available() == usd(3_500)
    assert platform_adjustments_raw() == 2_500
    assert ledger_total() == 0
    assert list(
        LedgerAdjustmentEvent.objects.filter(adjustment=adjustment).values_list(
            "from_status", "to_status"
        )
    ) == [("approved", "posted")]


def test_a_debit_below_the_threshold_takes_exactly_its_amount_from_available():
    staff = StaffUserFactory()
    fund_available(5_000)

    create(staff, direction="debit", amount_minor=1_999)

    assert available() == usd(3_001)
    assert debt() == usd(0)
    assert platform_adjustments_raw() == -1_999
    assert ledger_total() == 0


def test_a_debit_beyond_available_takes_it_to_zero_and_the_rest_becomes_debt():
    staff = StaffUserFactory()
    fund_available(3_000)

    create(staff, direction="debit", amount_minor=5_000)

    assert available() == usd(0)
    assert debt() == usd(2_000)
    assert platform_adjustments_raw() == -5_000
    assert ledger_total() == 0


def test_a_debit_with_nothing_available_is_all_debt():
    create(StaffUserFactory(), direction="debit", amount_minor=700)

    assert available() == usd(0)
    assert debt() == usd(700)


def test_a_credit_repays_the_sellers_debt_first_then_adds_to_available():
    staff = StaffUserFactory()
    put_in_debt(1_500)

    create(staff, direction="credit", amount_minor=2_000)

    assert debt() == usd(0)
    assert available() == usd(500)
    assert ledger_total() == 0


def test_a_credit_smaller_than_the_debt_only_reduces_the_debt():
    put_in_debt(1_500)

    create(StaffUserFactory(), direction="credit", amount_minor=600)

    assert debt() == usd(900)
    assert available() == usd(0)


# --- from the threshold up: a second staff member approves --------------------------------------


def test_an_adjustment_at_the_threshold_waits_for_approval_and_posts_nothing():
    adjustment = create(StaffUserFactory(), amount_minor=10_000)

    assert adjustment.status == Status.PENDING_APPROVAL
    assert not LedgerTransaction.objects.exists()
    assert available() == usd(0)


def test_a_second_staff_member_approves_and_the_adjustment_is_posted():
    creator, approver = StaffUserFactory(), StaffUserFactory()
    fund_available(100)
    adjustment = create(creator, amount_minor=25_000)

    adjustment_approve(adjustment_id=adjustment.pk, actor=approver)

    adjustment.refresh_from_db()
    assert adjustment.status == Status.POSTED
    assert adjustment.approved_by == approver
    assert adjustment.decided_at is not None
    assert available() == usd(25_100)
    assert ledger_total() == 0
    assert list(
        LedgerAdjustmentEvent.objects.filter(adjustment=adjustment)
        .order_by("id")
        .values_list("from_status", "to_status", "actor")
    ) == [("pending_approval", "approved", approver.pk), ("approved", "posted", approver.pk)]


def test_the_creator_cannot_approve_their_own_adjustment():
    creator = StaffUserFactory()
    adjustment = create(creator, amount_minor=50_000)

    with pytest.raises(AdjustmentError) as refused:
        adjustment_approve(adjustment_id=adjustment.pk, actor=creator)

    assert refused.value.code == "second_approver_required"
    adjustment.refresh_from_db()
    assert adjustment.status == Status.PENDING_APPROVAL
    assert adjustment.approved_by is None
    assert not LedgerTransaction.objects.exists()


def test_the_database_refuses_an_approver_who_is_the_creator():
    creator = StaffUserFactory()
    adjustment = create(creator, amount_minor=50_000)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAdjustment.objects.filter(pk=adjustment.pk).update(approved_by=creator)


def test_an_adjustment_is_approved_once():
    creator, first, second = StaffUserFactory(), StaffUserFactory(), StaffUserFactory()
    adjustment = create(creator, amount_minor=50_000)
    adjustment_approve(adjustment_id=adjustment.pk, actor=first)

    with pytest.raises(AdjustmentError) as refused:
        adjustment_approve(adjustment_id=adjustment.pk, actor=second)

    assert refused.value.code == "already_decided"
    assert LedgerTransaction.objects.count() == 1
    assert available() == usd(50_000)


def test_a_rejected_adjustment_posts_nothing_and_cannot_be_approved_later():
    creator, reviewer = StaffUserFactory(), StaffUserFactory()
    adjustment = create(creator, amount_minor=50_000)

    adjustment_reject(adjustment_id=adjustment.pk, actor=reviewer, reason="No evidence")
    with pytest.raises(AdjustmentError):
        adjustment_approve(adjustment_id=adjustment.pk, actor=reviewer)

    adjustment.refresh_from_db()
    assert adjustment.status == Status.REJECTED
    assert adjustment.rejected_by == reviewer
    assert adjustment.rejection_reason == "No evidence"
    assert not LedgerTransaction.objects.exists()


def test_the_threshold_is_a_setting(settings):
    settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR = 1_000

    adjustment = create(StaffUserFactory(), amount_minor=1_000)

    assert adjustment.status == Status.PENDING_APPROVAL


# --- refusals write nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"reason": "   "}, "reason_required"),
        ({"reason": "x" * 301}, "reason_too_long"),
        ({"amount_minor": 0}, "amount_not_positive"),
        ({"amount_minor": -5}, "amount_not_positive"),
        ({"amount_minor": 10**13}, "amount_too_large"),
        ({"direction": "sideways"}, "invalid_direction"),
        ({"currency": "XYZ"}, "invalid_currency"),
        ({"seller_id": 0}, "seller_required"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(overrides, code):
    with pytest.raises(AdjustmentError) as refused:
        create(StaffUserFactory(), **overrides)

    assert refused.value.code == code
    assert not LedgerAdjustment.objects.exists()
    assert not LedgerTransaction.objects.exists()


# --- the journal -------------------------------------------------------------------------------


def test_the_adjustment_journal_is_idempotent_by_its_key():
    fund_available(1_000)
    first = journal_seller_adjusted(
        adjustment_id=7, seller_id=SELLER_ID, direction="debit", amount=usd(600)
    )
    # The balance has changed since; the repeat still returns the first transaction.
    again = journal_seller_adjusted(
        adjustment_id=7, seller_id=SELLER_ID, direction="debit", amount=usd(600)
    )

    assert again.pk == first.pk
    assert available() == usd(400)
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 1


# --- at once (PostgreSQL) ----------------------------------------------------------------------


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_debits_at_once_never_take_available_below_zero():
    staff = StaffUserFactory()
    fund_available(3_000)

    def debit(index):
        return create(staff, direction="debit", amount_minor=2_000, reason=f"Chargeback {index}")

    run_at_once(2, debit)

    assert available() == usd(0)
    assert debt() == usd(1_000)
    assert ledger_total() == 0


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_post_the_adjustment_once():
    creator, first, second = StaffUserFactory(), StaffUserFactory(), StaffUserFactory()
    adjustment = create(creator, amount_minor=50_000)
    approvers = [first, second]

    def approve(index):
        try:
            adjustment_approve(adjustment_id=adjustment.pk, actor=approvers[index])
        except AdjustmentError as error:
            return error.code
        return "approved"

    outcomes = run_at_once(2, approve)

    assert sorted(outcomes) == ["already_decided", "approved"]
    assert LedgerTransaction.objects.filter(kind="adjustment").count() == 1
    assert available() == usd(50_000)


def test_small_adjustments_by_one_person_add_up_to_the_second_approval():
    """Splitting a large adjustment into small ones does not avoid the second staff member."""
    staff = StaffUserFactory()
    first = create(staff, amount_minor=6_000)
    second = create(staff, amount_minor=6_000)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Status.POSTED
    assert second.status == Status.PENDING_APPROVAL
    # Another staff member's own small adjustment for the shop is their own count.
    other = create(StaffUserFactory(), amount_minor=6_000)
    other.refresh_from_db()
    assert other.status == Status.POSTED
