"""The staff side of seller finance in admin (sellers/admin/payouts.py, marketplace/ledger/admin.py):
payouts read-only with money shown as money, retry and run through the payout services, manual
adjustments typed as money and approved by someone else, the reconciliation report and the
platform revenue page; none of it open to anyone but staff with the right permission."""

import datetime as dt
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.journal import journal_seller_payout_created, journal_seller_payout_paid
from marketplace.ledger.models import LedgerAdjustment, LedgerTransaction
from marketplace.ledger.reports import commission_by_day
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from marketplace.payments.models import LocalConnectedAccount, LocalTransfer
from sellers.models import Payout
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR = 10_000
    settings.PAYMENT_GATEWAY = "local"
    settings.MARKETPLACE_CURRENCY = "USD"


def usd(amount_minor: int) -> Money:
    return Money(amount_minor, "USD")


def staff_with(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def payout(seller, amount_minor=1_234, status=Payout.Status.PAID, **fields):
    # Rows made with their status as a test's starting point (creating a row is not a transition).
    return Payout.objects.create(
        seller=seller,
        amount_minor=amount_minor,
        currency="USD",
        status=status,
        destination="acct_test",
        **fields,
    )


def fund_available(seller_id: int, amount_minor: int) -> None:
    ledger_post(
        idempotency_key=f"test-settled:{seller_id}:{amount_minor}",
        kind="order_settled",
        legs=[
            Leg(accounts.gateway_cash("USD"), usd(amount_minor)),
            Leg(accounts.seller_available(seller_id, "USD"), usd(-amount_minor)),
        ],
    )


def local_transfer(key: str, amount_minor: int) -> LocalTransfer:
    account, _ = LocalConnectedAccount.objects.get_or_create(
        external_id="acct_local_test",
        defaults={"email": "shop@example.com", "country": "US", "details_submitted": True},
    )
    return LocalTransfer.objects.create(
        external_id=f"tr_local_{key.replace(':', '_')}",
        idempotency_key=key,
        amount_minor=amount_minor,
        currency="USD",
        destination=account,
    )


PAGES = [
    ("admin:sellers_payout_changelist", {}),
    ("admin:sellers_payout_run", {}),
    ("admin:sellers_payout_reconciliation", {}),
    ("admin:ledger_revenue", {}),
    ("admin:ledger_ledgeradjustment_changelist", {}),
    ("admin:ledger_ledgeradjustment_add", {}),
]


# --- who may reach the pages -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_anonymous_visitors_are_sent_to_the_admin_login(client, name, kwargs):
    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_signed_in_people_who_are_not_staff_are_sent_to_the_admin_login(client, name, kwargs):
    client.force_login(ApprovedSellerFactory().owner)

    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_staff_without_permissions_are_refused(client, name, kwargs):
    client.force_login(staff_with())

    assert client.get(reverse(name, kwargs=kwargs)).status_code == 403


def test_a_non_staff_post_to_run_payouts_runs_nothing(client):
    client.force_login(ApprovedSellerFactory().owner)

    with mock.patch("sellers.tasks.run_payouts.delay") as run:
        response = client.post(reverse("admin:sellers_payout_run"))

    assert response.status_code == 302
    run.assert_not_called()


# --- payouts -----------------------------------------------------------------------------------


def test_payouts_are_listed_with_amounts_as_money_and_cannot_be_edited(staff_client):
    seller = ApprovedSellerFactory(shop_name="Teapot Town")
    row = payout(seller, amount_minor=1_234)

    changelist = staff_client.get(reverse("admin:sellers_payout_changelist"))
    detail = staff_client.get(reverse("admin:sellers_payout_change", args=[row.pk]))

    page = changelist.content.decode()
    assert changelist.status_code == 200
    assert "$12.34" in page
    assert "Teapot Town" in page
    assert ">1234<" not in page
    assert "Run payouts now" in page
    assert detail.status_code == 200
    assert "$12.34" in detail.content.decode()
    assert 'name="amount_minor"' not in detail.content.decode()
    assert staff_client.get(reverse("admin:sellers_payout_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:sellers_payout_delete", args=[row.pk])).status_code == 403
    )
    staff_client.post(
        reverse("admin:sellers_payout_change", args=[row.pk]),
        {"amount_minor": 1, "status": "failed"},
    )
    row.refresh_from_db()
    assert (row.amount_minor, row.status) == (1_234, Payout.Status.PAID)


def test_payouts_filter_by_status_and_search_by_shop(staff_client):
    kept = payout(ApprovedSellerFactory(shop_name="Lantern Lane"), status=Payout.Status.FAILED)
    payout(ApprovedSellerFactory(shop_name="Quiet Quilts"), status=Payout.Status.PAID)
    url = reverse("admin:sellers_payout_changelist")

    failed = staff_client.get(url, {"status__exact": "failed"}).content.decode()
    found = staff_client.get(url, {"q": "Lantern"}).content.decode()
    by_id = staff_client.get(url, {"q": str(kept.seller_id)}).content.decode()

    assert "Lantern Lane" in failed and "Quiet Quilts" not in failed
    assert "Lantern Lane" in found and "Quiet Quilts" not in found
    assert "Lantern Lane" in by_id


def test_retry_calls_the_payout_service_for_each_failed_payout_only(staff_client, staff):
    seller = ApprovedSellerFactory()
    failed = payout(seller, status=Payout.Status.FAILED)
    paid = payout(ApprovedSellerFactory(), status=Payout.Status.PAID)

    with mock.patch("sellers.services.payouts.payout_retry") as retry:
        response = staff_client.post(
            reverse("admin:sellers_payout_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk, paid.pk]},
            follow=True,
        )

    retry.assert_called_once_with(payout_id=failed.pk, actor=staff)
    page = response.content.decode()
    assert "Retried 1 failed payout." in page
    assert "only failed payouts are retried" in page


def test_a_refused_retry_is_a_message_not_an_error(staff_client):
    from marketplace.errors import DomainError

    failed = payout(ApprovedSellerFactory(), status=Payout.Status.FAILED)

    with mock.patch(
        "sellers.services.payouts.payout_retry",
        side_effect=DomainError("No new payout: a debt is open."),
    ):
        response = staff_client.post(
            reverse("admin:sellers_payout_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert "No new payout: a debt is open." in response.content.decode()


def test_staff_who_may_only_view_payouts_cannot_retry_or_run_them(client):
    failed = payout(ApprovedSellerFactory(), status=Payout.Status.FAILED)
    client.force_login(staff_with("view_payout"))

    changelist = client.get(reverse("admin:sellers_payout_changelist"))
    with (
        mock.patch("sellers.services.payouts.payout_retry") as retry,
        mock.patch("sellers.tasks.run_payouts.delay") as run,
    ):
        client.post(
            reverse("admin:sellers_payout_changelist"),
            {"action": "retry_failed", "_selected_action": [failed.pk]},
        )
        ran = client.post(reverse("admin:sellers_payout_run"))

    assert changelist.status_code == 200
    assert "retry_failed" not in changelist.content.decode()
    assert "Run payouts now" not in changelist.content.decode()
    assert ran.status_code == 403
    retry.assert_not_called()
    run.assert_not_called()


def test_run_payouts_now_asks_then_queues_the_payout_job(
    staff_client, staff, django_capture_on_commit_callbacks
):
    url = reverse("admin:sellers_payout_run")

    with mock.patch("sellers.tasks.run_payouts.delay") as run:
        asked = staff_client.get(url)
        run.assert_not_called()
        with django_capture_on_commit_callbacks(execute=True):
            response = staff_client.post(url, follow=True)

    assert asked.status_code == 200
    run.assert_called_once_with(requested_by_id=staff.pk)
    assert "The payout run has started in the background" in response.content.decode()


# --- manual adjustments in admin ---------------------------------------------------------------


def adjustment_form(seller, **overrides):
    data = {
        "shop": str(seller.pk),
        "direction": "credit",
        "amount": "12.50",
        "currency": "USD",
        "reason": "Goodwill for a late parcel",
    }
    data.update(overrides)
    return data


def test_staff_make_an_adjustment_typed_as_money_and_it_posts(staff_client, staff):
    seller = ApprovedSellerFactory(shop_name="Teapot Town")

    response = staff_client.post(
        reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller), follow=True
    )

    adjustment = LedgerAdjustment.objects.get()
    assert (adjustment.seller_id, adjustment.amount_minor, adjustment.created_by) == (
        seller.pk,
        1_250,
        staff,
    )
    assert adjustment.shop_name == "Teapot Town"
    assert adjustment.status == LedgerAdjustment.Status.POSTED
    assert ledger_balance(accounts.seller_available(seller.pk, "USD")) == usd(1_250)
    assert "Posted: a credit of $12.50 for Teapot Town." in response.content.decode()
    changelist = staff_client.get(reverse("admin:ledger_ledgeradjustment_changelist"))
    assert "$12.50" in changelist.content.decode()
    detail = staff_client.get(
        reverse("admin:ledger_ledgeradjustment_change", args=[adjustment.pk])
    ).content.decode()
    assert "Goodwill for a late parcel" in detail
    assert f"adjustment:{adjustment.pk}" in detail
    assert 'name="amount_minor"' not in detail


def test_the_shop_may_be_named_by_its_slug(staff_client):
    seller = ApprovedSellerFactory(slug="teapot-town")

    staff_client.post(
        reverse("admin:ledger_ledgeradjustment_add"),
        adjustment_form(seller, shop="/shop/teapot-town/"),
    )

    assert LedgerAdjustment.objects.get().seller_id == seller.pk


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"amount": "12,50"}, "Use a dot for decimals"),
        ({"amount": "twelve"}, "Enter an amount such as 12.50"),
        ({"amount": "-5"}, "cannot be negative"),
        ({"amount": "0"}, "more than zero"),
        ({"amount": "1.234"}, "at most 2 decimals"),
        ({"amount": "1e30"}, "too large"),
        ({"amount": "99999999999999"}, "too large"),
        ({"amount": ""}, "This field is required"),
        ({"reason": ""}, "This field is required"),
        ({"shop": "no-such-shop"}, "No shop with this id or address"),
        ({"shop": "#999999"}, "No shop with this id or address"),
        ({"currency": "XYZ"}, "Select a valid choice"),
        ({"direction": "sideways"}, "Select a valid choice"),
    ],
)
def test_badly_typed_adjustments_show_an_error_and_write_nothing(staff_client, overrides, message):
    seller = ApprovedSellerFactory()

    response = staff_client.post(
        reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller, **overrides)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not LedgerAdjustment.objects.exists()
    assert not LedgerTransaction.objects.exists()


def test_an_adjustment_above_the_threshold_waits_then_another_staff_member_approves_it(client):
    seller = ApprovedSellerFactory()
    creator, approver = StaffUserFactory(), StaffUserFactory()
    client.force_login(creator)
    client.post(
        reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller, amount="250.00")
    )
    adjustment = LedgerAdjustment.objects.get()
    assert adjustment.status == LedgerAdjustment.Status.PENDING_APPROVAL
    changelist = reverse("admin:ledger_ledgeradjustment_changelist")
    action = {"action": "approve_selected", "_selected_action": [adjustment.pk]}

    own = client.post(changelist, action, follow=True)
    adjustment.refresh_from_db()
    assert adjustment.status == LedgerAdjustment.Status.PENDING_APPROVAL
    assert "Someone other than the person who made this adjustment" in own.content.decode()

    client.force_login(approver)
    client.post(changelist, action)
    adjustment.refresh_from_db()
    assert adjustment.status == LedgerAdjustment.Status.POSTED
    assert adjustment.approved_by == approver
    assert ledger_balance(accounts.seller_available(seller.pk, "USD")) == usd(25_000)


def test_staff_without_the_approve_permission_cannot_approve(client):
    seller = ApprovedSellerFactory()
    creator = StaffUserFactory()
    client.force_login(creator)
    client.post(
        reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller, amount="500.00")
    )
    adjustment = LedgerAdjustment.objects.get()
    client.force_login(
        staff_with("view_ledgeradjustment", "add_ledgeradjustment", "change_ledgeradjustment")
    )
    changelist = reverse("admin:ledger_ledgeradjustment_changelist")

    page = client.get(changelist)
    client.post(changelist, {"action": "approve_selected", "_selected_action": [adjustment.pk]})
    client.post(changelist, {"action": "reject_selected", "_selected_action": [adjustment.pk]})

    assert page.status_code == 200
    assert "approve_selected" not in page.content.decode()
    adjustment.refresh_from_db()
    assert adjustment.status == LedgerAdjustment.Status.PENDING_APPROVAL
    assert not LedgerTransaction.objects.exists()


def test_staff_with_the_approve_permission_may_reject(client):
    seller = ApprovedSellerFactory()
    client.force_login(StaffUserFactory())
    client.post(
        reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller, amount="500.00")
    )
    adjustment = LedgerAdjustment.objects.get()
    client.force_login(staff_with("view_ledgeradjustment", "approve_ledgeradjustment"))

    client.post(
        reverse("admin:ledger_ledgeradjustment_changelist"),
        {"action": "reject_selected", "_selected_action": [adjustment.pk]},
    )

    adjustment.refresh_from_db()
    assert adjustment.status == LedgerAdjustment.Status.REJECTED
    assert not LedgerTransaction.objects.exists()


def test_staff_who_may_only_view_adjustments_cannot_make_one(client):
    seller = ApprovedSellerFactory()
    client.force_login(staff_with("view_ledgeradjustment"))

    assert client.get(reverse("admin:ledger_ledgeradjustment_changelist")).status_code == 200
    response = client.post(reverse("admin:ledger_ledgeradjustment_add"), adjustment_form(seller))

    assert response.status_code == 403
    assert not LedgerAdjustment.objects.exists()


# --- reconciliation ----------------------------------------------------------------------------


def paid_in_ledger(row: Payout) -> None:
    fund_available(row.seller_id, row.amount_minor)
    journal_seller_payout_created(
        payout_id=row.pk, seller_id=row.seller_id, amount=usd(row.amount_minor)
    )
    journal_seller_payout_paid(
        payout_id=row.pk, seller_id=row.seller_id, amount=usd(row.amount_minor)
    )


def test_the_reconciliation_lists_planted_differences_and_not_the_matched_payouts(staff_client):
    matched = payout(ApprovedSellerFactory(shop_name="Matched Mugs"), amount_minor=1_000)
    paid_in_ledger(matched)
    matched_transfer = local_transfer(f"transfer:payout:{matched.pk}", 1_000)
    Payout.objects.filter(pk=matched.pk).update(gateway_transfer_id=matched_transfer.external_id)

    no_transfer = payout(ApprovedSellerFactory(shop_name="Missing Maps"), amount_minor=2_000)
    paid_in_ledger(no_transfer)

    wrong_amount = payout(ApprovedSellerFactory(shop_name="Odd Ovens"), amount_minor=3_000)
    paid_in_ledger(wrong_amount)
    local_transfer(f"transfer:payout:{wrong_amount.pk}", 2_999)

    local_transfer("transfer:payout:987654", 4_000)

    response = staff_client.get(reverse("admin:sellers_payout_reconciliation"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Missing Maps" in page
    assert "Paid in the ledger with no transfer at the gateway." in page
    assert "Odd Ovens" in page
    assert "The transfer&#x27;s amount differs from the ledger&#x27;s." in page
    assert "987654" in page
    assert "A transfer with no payout in the ledger." in page
    assert "Matched Mugs" not in page
    assert "$29.99" in page and "$30.00" in page
    everything = staff_client.get(
        reverse("admin:sellers_payout_reconciliation"), {"all": "1"}
    ).content.decode()
    assert "Matched Mugs" in everything


def test_the_reconciliation_flags_a_payout_marked_paid_that_the_ledger_never_paid(staff_client):
    seller = ApprovedSellerFactory(shop_name="Ghost Goods")
    row = payout(seller, amount_minor=1_500)
    fund_available(seller.pk, 1_500)
    journal_seller_payout_created(payout_id=row.pk, seller_id=seller.pk, amount=usd(1_500))
    local_transfer(f"transfer:payout:{row.pk}", 1_500)

    page = staff_client.get(reverse("admin:sellers_payout_reconciliation")).content.decode()

    assert "The payout is marked paid but the ledger has not paid it." in page


def test_the_reconciliation_with_nothing_wrong_says_so(staff_client):
    row = payout(ApprovedSellerFactory(), amount_minor=1_000)
    paid_in_ledger(row)
    local_transfer(f"transfer:payout:{row.pk}", 1_000)

    page = staff_client.get(
        reverse("admin:sellers_payout_reconciliation"), {"days": "nonsense"}
    ).content.decode()

    assert "No differences" in page


# --- platform revenue --------------------------------------------------------------------------


def earn_commission(key: str, amount_minor: int, posted_at) -> None:
    """Commission settled (credit on commission earned) or, negative, given back by a refund."""
    legs = [
        Leg(accounts.platform_commission_pending("USD"), usd(amount_minor)),
        Leg(accounts.platform_commission_earned("USD"), usd(-amount_minor)),
    ]
    ledger_post(idempotency_key=key, kind="order_settled", legs=legs, posted_at=posted_at)


def test_the_revenue_report_sums_commission_earned_per_day():
    today = timezone.localdate()
    noon = timezone.make_aware(dt.datetime.combine(today, dt.time(12)))
    earn_commission("a", 250, noon)
    earn_commission("b", 125, noon - dt.timedelta(hours=1))
    earn_commission("c", -50, noon)  # a refund after settlement gave some back
    earn_commission("d", 1_000, noon - dt.timedelta(days=3))
    earn_commission("e", 9_999, noon - dt.timedelta(days=120))  # outside the 90 days

    (report,) = commission_by_day(days=90, today=today)

    assert report.currency == "USD"
    assert len(report.days) == 90
    assert report.days[-1].day == today
    assert report.days[-1].earned == usd(375)
    assert report.days[-1].given_back == usd(50)
    assert report.days[-1].net == usd(325)
    assert report.days[-4].net == usd(1_000)
    assert report.earned == usd(1_375)
    assert report.net == usd(1_325)


def test_the_revenue_page_shows_the_totals_and_a_chart(staff_client):
    noon = timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(12)))
    earn_commission("a", 1_234, noon)
    earn_commission("b", 1_000, noon - dt.timedelta(days=1))

    response = staff_client.get(reverse("admin:ledger_revenue"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "$22.34" in page
    assert "$12.34" in page
    assert "<svg" in page
    assert page.count("<rect") == 90


def test_the_revenue_page_without_commission_says_so(staff_client):
    page = staff_client.get(reverse("admin:ledger_revenue")).content.decode()

    assert "No commission earned in the last 90 days." in page


def test_the_ledger_index_links_to_the_reports(staff_client):
    page = staff_client.get(reverse("admin:app_list", args=["ledger"])).content.decode()

    assert reverse("admin:ledger_revenue") in page
    assert reverse("admin:sellers_payout_reconciliation") in page


def test_a_payout_reserved_before_the_window_and_paid_inside_it_is_matched():
    from marketplace.ledger.reports import payout_reconciliation

    seller = ApprovedSellerFactory()
    row = payout(seller, amount_minor=1_000)
    fund_available(seller.pk, 1_000)
    journal_seller_payout_created(payout_id=row.pk, seller_id=seller.pk, amount=usd(1_000))
    local_transfer(f"transfer:payout:{row.pk}", 1_000)
    later = timezone.now() + dt.timedelta(seconds=1)
    ledger_post(
        idempotency_key=f"payout-paid:{row.pk}",
        kind="payout_paid",
        legs=[
            Leg(accounts.seller_payout_in_transit(seller.pk, "USD"), usd(1_000)),
            Leg(accounts.gateway_cash("USD"), usd(-1_000)),
        ],
        reference=f"payout:{row.pk}",
        posted_at=later,
    )

    report = payout_reconciliation(since=later)

    (found,) = report.rows
    assert (found.payout_id, found.ledger_reserved_minor, found.ledger_paid_minor) == (
        row.pk,
        1_000,
        1_000,
    )
    assert found.differences == []
