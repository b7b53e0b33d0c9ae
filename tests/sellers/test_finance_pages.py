"""Seller Center > Finance: balances, transactions, statements, payouts and their CSV files, all
read from the ledger and the seller's own accounts (docs/architecture.md, "Money and the ledger").

The money is made by the services people use: orders paid through checkout, delivered by the
demo carrier, completed by the buyer, settled by the settlement job 8 days later, refunded by the
refund service; payouts through the ledger journal (the payout job is not what is tested here).
"""

import csv
import io
import itertools
import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.ledger import accounts
from marketplace.ledger.journal import (
    OrderSplit,
    journal_order_paid,
    journal_seller_payout_created,
    journal_seller_payout_failed,
    journal_seller_payout_paid,
)
from marketplace.ledger.models import LedgerEntry
from marketplace.ledger.services import Leg, ledger_balance, ledger_post
from marketplace.money import Money
from marketplace.state import transition
from orders.models import Order
from orders.services.deadlines import order_confirm_receipt
from orders.services.refunds import refund_issue, refund_whole_order_lines
from orders.services.settlement import orders_settle_due
from sellers import finance
from sellers.models import PAYOUT_MACHINE, Payout, SellerRole
from tests.returns.factories import delivered_order
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db

FINANCE_PAGES = [
    "seller_center:finance",
    "seller_center:finance_transactions",
    "seller_center:finance_transactions_csv",
    "seller_center:finance_statements",
    "seller_center:finance_statements_csv",
    "seller_center:finance_payouts",
]


# --- Building money through the services ---------------------------------------------------------


def completed(seller, *lines) -> Order:
    order = delivered_order(seller, *lines)
    return order_confirm_receipt(order_id=order.pk, buyer=order.buyer)


def settle_all():
    """The settlement job, run past every hold."""
    return orders_settle_due(now=timezone.now() + timedelta(days=8))


def refund_all(order: Order, key: str):
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        return refund_issue(
            order=locked,
            lines=refund_whole_order_lines(locked),
            idempotency_key=key,
            reason="return",
        )


def payout(seller, amount_minor: int, *, outcome: str, reason: str = "") -> Payout:
    """A payout row moved to `outcome` (paid or failed), journaled as the payout job does."""
    row = Payout.objects.create(
        seller=seller, amount_minor=amount_minor, currency="USD", destination="acct_test"
    )
    money = Money(amount_minor, "USD")
    journal_seller_payout_created(payout_id=row.pk, seller_id=seller.pk, amount=money)
    transition(PAYOUT_MACHINE, instance=row, to_status=Payout.Status.IN_TRANSIT)
    if outcome == "paid":
        journal_seller_payout_paid(payout_id=row.pk, seller_id=seller.pk, amount=money)
        Payout.objects.filter(pk=row.pk).update(paid_at=timezone.now())
        transition(PAYOUT_MACHINE, instance=row, to_status=Payout.Status.PAID)
    else:
        journal_seller_payout_failed(payout_id=row.pk, seller_id=seller.pk, amount=money)
        Payout.objects.filter(pk=row.pk).update(failed_at=timezone.now(), failure_reason=reason)
        transition(PAYOUT_MACHINE, instance=row, to_status=Payout.Status.FAILED)
    row.refresh_from_db()
    return row


def paid_only(seller, total_minor: int, order_id: int):
    """A paid order journaled directly (fast, for counting queries over many entries)."""
    journal_order_paid(
        seller_order_id=order_id,
        split=OrderSplit(
            seller_id=seller.pk,
            total=Money(total_minor, "USD"),
            commission=Money(total_minor // 50, "USD"),
        ),
    )


def balance(kind: str, seller) -> int:
    return ledger_balance(getattr(accounts, f"seller_{kind}")(seller.pk, "USD")).amount_minor


def money(amount_minor: int) -> str:
    return Money(amount_minor, "USD").format()


@pytest.fixture
def history(seller):
    """Two orders settled, one refunded after settlement, one still pending; one payout paid,
    one failed."""
    first = completed(seller, (4000, 1))
    second = completed(seller, (2500, 2))
    settle_all()
    third = completed(seller, (1000, 1))  # completed after the run: still pending
    refund_all(second, "refund-second")
    paid = payout(seller, 1500, outcome="paid")
    failed = payout(seller, 1000, outcome="failed", reason="The bank account was closed.")
    return {"orders": [first, second, third], "paid": paid, "failed": failed}


# --- Overview ------------------------------------------------------------------------------------


def test_the_overview_shows_the_ledger_balances(owner_client, history):
    seller = owner_client.seller
    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    shown = finance.finance_balances(seller=seller)
    assert shown.available == balance("available", seller) > 0
    assert shown.pending == balance("pending", seller) > 0
    assert shown.in_transit == balance("payout_in_transit", seller) == 0
    assert shown.debt == balance("debt", seller) == 0
    assert shown.paid_out == 1500
    for amount in (shown.available, shown.pending, shown.paid_out):
        assert money(amount) in html
    # The commission kept: the orders' commission less what the refund gave back.
    first, _second, third = history["orders"]
    assert shown.commission == first.commission_minor + third.commission_minor
    assert money(shown.commission) in html
    assert "Commission kept by the platform" in html
    assert "7 days after the order completes" in html
    assert "You owe" not in html


def test_the_overview_lists_orders_still_pending_and_the_latest_moves(
    owner_client, history, monkeypatch
):
    monkeypatch.setattr(finance, "_release_date_providers", [])  # no one to date them
    third = history["orders"][2]
    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    pending_panel = html.split('id="pending-title"', 1)[1].split("</section>", 1)[0]
    assert third.number in pending_panel
    assert "available 7 days after it completes" in pending_panel
    assert history["orders"][0].number not in pending_panel
    assert reverse("seller_orders:detail", args=[third.pk]) in html
    assert "The bank account was closed." in html
    assert html.count('class="finance-entry"') == 10


def test_a_pending_order_shows_the_day_its_money_becomes_available(
    owner_client, history, monkeypatch, settings
):
    """orders answers through the registry (sellers never imports orders): completion plus the
    hold. Without a provider the page says "7 days after it completes"."""
    third = history["orders"][2]

    def release_dates(order_ids):
        hold = timedelta(days=settings.SETTLEMENT_HOLD_DAYS)
        return {
            pk: completed_at + hold
            for pk, completed_at in Order.objects.filter(
                pk__in=order_ids, completed_at__isnull=False
            ).values_list("pk", "completed_at")
        }

    monkeypatch.setattr(finance, "_release_date_providers", [])
    finance.pending_release_dates_register(release_dates)
    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    due = timezone.localtime(third.completed_at + timedelta(days=7))
    assert (
        f"{third.number}</a>: {money(finance.finance_pending_orders(seller=third.seller)[0].amount)}, available on"
        in html
    )
    assert f'<time datetime="{due.isoformat()}">{due:%b} {due.day}, {due.year}</time>' in html


def test_the_chart_is_an_inline_svg_without_inline_styles(owner_client, history):
    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    svg = html.split("<svg viewBox", 1)[1].split("</svg>", 1)[0]
    assert "<polyline" in svg
    assert "style=" not in svg


def test_a_daily_series_ends_on_the_available_balance(seller, history):
    series = finance.finance_daily_available(
        seller=seller, today=timezone.localdate() + timedelta(9)
    )
    assert len(series) == 90
    assert series[-1][1] == balance("available", seller)
    assert series[0][1] == 0


def test_a_debt_shows_with_how_it_is_repaid(owner_client):
    seller = owner_client.seller
    order = completed(seller, (3000, 1))
    settle_all()
    payout(seller, balance("available", seller), outcome="paid")
    refund_all(order, "refund-after-payout")
    assert balance("debt", seller) > 0

    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    assert f"You owe {money(balance('debt', seller))}" in html
    assert "repaid from your next settlements before anything becomes available" in html


def test_a_new_seller_sees_zero_and_no_transactions(owner_client):
    html = owner_client.get(reverse("seller_center:finance")).content.decode()

    assert "No transactions yet" in html
    assert "No payouts yet" in html
    assert "Not connected" in html


# --- Transactions --------------------------------------------------------------------------------


def page_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="finance-entry">(.*?)</tr>', html, flags=re.S)


def test_every_entry_on_the_sellers_accounts_is_listed_with_its_type(owner_client, history):
    seller = owner_client.seller
    html = owner_client.get(reverse("seller_center:finance_transactions")).content.decode()

    count = LedgerEntry.objects.filter(
        account__code__in=finance.finance_account_codes(seller=seller).values()
    ).count()
    assert len(page_rows(html)) == count
    for label in ("Sale", "Settlement", "Refund", "Payout", "Payout returned"):
        assert f'class="finance-entry-type">{label}</td>' in html
    first = history["orders"][0]
    assert f'href="{reverse("seller_orders:detail", args=[first.pk])}">Order {first.number}' in html


@pytest.mark.parametrize(
    ("params", "types"),
    [
        ({"type": "sale"}, {"Sale"}),
        ({"type": "settlement"}, {"Settlement"}),
        ({"type": "payout_returned"}, {"Payout returned"}),
        ({"account": "in_transit"}, {"Payout", "Payout returned"}),
    ],
)
def test_the_filters_narrow_the_list(owner_client, history, params, types):
    html = owner_client.get(reverse("seller_center:finance_transactions"), params).content.decode()

    shown = {
        re.search(r'class="finance-entry-type">(.*?)</td>', row).group(1) for row in page_rows(html)
    }
    assert shown == types


def test_the_date_filter_keeps_the_days_asked_for(owner_client, history):
    later = (timezone.localdate() + timedelta(days=8)).isoformat()
    html = owner_client.get(
        reverse("seller_center:finance_transactions"), {"date_from": later, "date_to": later}
    ).content.decode()

    rows = page_rows(html)
    assert rows
    assert all("Settlement" in row for row in rows)


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-02-31"},
        {"date_from": "yesterday"},
        {"date_to": "0001-01-01"},
        {"date_from": "2026-05-02", "date_to": "2026-05-01"},
        {"type": "bogus"},
        {"account": "seller:1:available:USD"},
        {"page": "x"},
    ],
)
def test_bad_filters_are_a_message_never_a_500(owner_client, history, params):
    response = owner_client.get(reverse("seller_center:finance_transactions"), params)

    assert response.status_code == 200
    html = response.content.decode()
    if "page" not in params:
        assert "was not applied" in html
    assert page_rows(html)


def test_the_pages_split_at_fifty(owner_client):
    seller = owner_client.seller
    for number in range(55):
        paid_only(seller, 1000 + number, 800_000 + number)
    url = reverse("seller_center:finance_transactions")

    first = owner_client.get(url).content.decode()
    second = owner_client.get(url, {"page": 2}).content.decode()

    assert len(page_rows(first)) == 50
    assert len(page_rows(second)) == 5
    assert "Page 1 of 2" in first


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params or {}).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url_name",
    [
        "seller_center:finance",
        "seller_center:finance_transactions",
        "seller_center:finance_statements",
    ],
)
def test_the_query_count_does_not_grow_with_the_entries(owner_client, url_name):
    seller = owner_client.seller
    url = reverse(url_name)
    for number in range(3):
        paid_only(seller, 1000, 700_000 + number)
    few = _queries(owner_client, url)
    for number in range(3, 30):
        paid_only(seller, 1000, 700_000 + number)
    many = _queries(owner_client, url)

    assert many == few


# --- CSV -----------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_transactions_csv_streams_every_entry_and_its_total(owner_client, history):
    seller = owner_client.seller
    response = owner_client.get(reverse("seller_center:finance_transactions_csv"))
    rows = read_csv(response)

    codes = finance.finance_account_codes(seller=seller)
    entries = LedgerEntry.objects.filter(account__code__in=codes.values())
    assert len(rows) == entries.count()
    available = [row for row in rows if row["account"] == "Available"]
    assert sum(
        Money.parse(row["amount"], "USD", allow_negative=True).amount_minor for row in available
    ) == balance("available", seller)
    assert {row["type"] for row in rows} >= {"Sale", "Settlement", "Refund", "Payout"}
    first = history["orders"][0]
    assert first.number in {row["order"] for row in rows}


def test_the_transactions_csv_uses_the_pages_filters(owner_client, history):
    rows = read_csv(
        owner_client.get(reverse("seller_center:finance_transactions_csv"), {"type": "sale"})
    )
    assert rows
    assert {row["type"] for row in rows} == {"Sale"}


# --- Statements ----------------------------------------------------------------------------------


@pytest.mark.parametrize("period", ["daily", "weekly"])
def test_statements_reconcile_to_the_ledger(owner_client, history, period):
    seller = owner_client.seller
    rows = finance.finance_statements(seller=seller, period=period)

    movements = sum(
        row.settled + row.refunds + row.payouts + row.payouts_returned + row.adjustments
        for row in rows
    )
    assert movements == balance("available", seller)
    assert rows[0].closing == balance("available", seller)
    assert rows[-1].opening == 0
    for newer, older in itertools.pairwise(rows):
        assert newer.opening == older.closing

    html = owner_client.get(
        reverse("seller_center:finance_statements"), {"period": period}
    ).content.decode()
    assert f'<strong id="statement-closing">{money(balance("available", seller))}</strong>' in html

    csv_rows = read_csv(
        owner_client.get(reverse("seller_center:finance_statements_csv"), {"period": period})
    )
    assert len(csv_rows) == len(rows)
    assert Money.parse(csv_rows[0]["closing"], "USD", allow_negative=True).amount_minor == balance(
        "available", seller
    )
    total = sum(
        Money.parse(row[name], "USD", allow_negative=True).amount_minor
        for row in csv_rows
        for name in ("settled", "refunds", "payouts", "payouts_returned", "adjustments")
    )
    assert total == balance("available", seller)


def test_a_refund_beyond_the_balance_shows_apart_as_debt(owner_client):
    seller = owner_client.seller
    order = completed(seller, (3000, 1))
    settle_all()
    payout(seller, balance("available", seller), outcome="paid")
    refund_all(order, "refund-into-debt")

    rows = finance.finance_statements(seller=seller)
    totals = finance.statement_totals(rows)
    assert totals["added_to_debt"] == balance("debt", seller) > 0
    assert totals["closing"] == balance("available", seller) == 0
    html = owner_client.get(reverse("seller_center:finance_statements")).content.decode()
    assert "Added to debt" in html
    assert "Adjustments" not in html  # a column with nothing in it stays off the page


def test_an_adjustment_shows_with_its_reason_and_reconciles(owner_client, history):
    """Any other movement on the seller's accounts (staff adjustments) is an "Adjustment"."""
    seller = owner_client.seller
    ledger_post(
        idempotency_key="test-adjustment:1",
        kind="adjustment",
        reference="adjustment:1",
        description="Goodwill credit for a late courier",
        legs=[
            Leg(accounts.gateway_cash("USD"), Money(500, "USD")),
            Leg(accounts.seller_available(seller.pk, "USD"), Money(-500, "USD")),
        ],
    )

    html = owner_client.get(
        reverse("seller_center:finance_transactions"), {"type": "adjustment"}
    ).content.decode()
    rows = page_rows(html)
    assert len(rows) == 1
    assert "Goodwill credit for a late courier" in rows[0]
    assert money(500) in rows[0]
    statements = finance.finance_statements(seller=seller)
    assert finance.statement_totals(statements)["adjustments"] == 500
    assert statements[0].closing == balance("available", seller)


def test_an_unknown_period_says_so_and_shows_daily(owner_client, history):
    response = owner_client.get(reverse("seller_center:finance_statements"), {"period": "yearly"})

    assert response.status_code == 200
    assert "Statements are daily or weekly" in response.content.decode()


# --- Payouts -------------------------------------------------------------------------------------


def test_the_payout_history_shows_status_dates_and_failure_reasons(owner_client, history):
    html = owner_client.get(reverse("seller_center:finance_payouts")).content.decode()

    assert html.count('class="finance-payout"') == 2
    assert "The bank account was closed." in html
    assert money(1500) in html and money(1000) in html
    assert ">Paid</span>" in html and ">Failed</span>" in html


def test_the_payout_history_pages_at_twenty_five(owner_client):
    seller = owner_client.seller
    for number in range(27):
        row = Payout.objects.create(
            seller=seller, amount_minor=1000 + number, currency="USD", destination="acct"
        )
        transition(PAYOUT_MACHINE, instance=row, to_status=Payout.Status.FAILED)
    html = owner_client.get(reverse("seller_center:finance_payouts")).content.decode()

    assert html.count('class="finance-payout"') == 25
    assert "Page 1 of 2" in html


# --- Access --------------------------------------------------------------------------------------


def test_another_sellers_money_never_shows(client, history, seller):
    other = ApprovedSellerFactory()
    client.force_login(other.owner)

    for url_name in FINANCE_PAGES:
        response = client.get(reverse(url_name))
        assert response.status_code == 200
        body = (
            b"".join(response.streaming_content)
            if isinstance(response, StreamingHttpResponse)
            else response.content
        ).decode()
        for order in history["orders"]:
            assert order.number not in body, url_name
        assert "The bank account was closed." not in body
    assert finance.finance_balances(seller=other).available == 0


@pytest.mark.parametrize("role", [SellerRole.PRODUCT_MANAGER, SellerRole.ORDER_MANAGER])
@pytest.mark.parametrize("url_name", FINANCE_PAGES)
def test_a_role_without_finance_gets_404(client, role, url_name):
    member = SellerMemberFactory(seller=ApprovedSellerFactory(), role=role)
    client.force_login(member.user)

    assert client.get(reverse(url_name)).status_code == 404


@pytest.mark.parametrize("url_name", FINANCE_PAGES)
def test_the_finance_role_opens_every_page(client, url_name):
    member = SellerMemberFactory(seller=ApprovedSellerFactory(), role=SellerRole.FINANCE)
    client.force_login(member.user)

    assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("url_name", FINANCE_PAGES)
def test_a_shop_not_approved_gets_404(client, url_name):
    seller = SellerFactory()
    client.force_login(seller.owner)

    assert client.get(reverse(url_name)).status_code == 404
