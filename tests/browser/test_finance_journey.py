"""Seller finance in Chromium, on a desktop and on a phone (issue 12's "Done when").

A seller with an onboarded payout account has three completed orders: two completed eight days
ago (past the seven-day hold) and one today. In Seller Center > Finance the seller sees all three
as pending; the settlement job (run in-process) makes the two old ones available; the payout job
pays them out, and the Payouts page shows the payout paid with its amount. The seller downloads
the statement CSV and the transactions CSV: their totals match the figures on the pages and the
ledger.

Nothing scrolls sideways and no page breaks the Content-Security-Policy. MARKETPLACE_SCREENSHOTS=
<dir> keeps a screenshot of each step at each width."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketplace.ledger import accounts
from marketplace.ledger.models import LedgerEntry
from marketplace.ledger.services import ledger_balance
from marketplace.money import Money
from marketplace.payments.models import LocalConnectedAccount
from orders.models import Order, OrderStatus
from orders.services.deadlines import order_confirm_receipt
from orders.services.settlement import orders_settle_due
from sellers.finance import finance_account_codes, order_number
from sellers.models import Payout
from sellers.services.payouts import payouts_run
from tests.browser.steps import (
    WIDTHS,
    assert_no_csp_violations,
    assert_no_sideways_scroll,
    download_csv,
    new_watched_page,
    screenshot,
    sign_in,
    stat_value,
)
from tests.returns.factories import delivered_order
from tests.sellers.factories import ApprovedSellerFactory, PayoutAccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

USD = "USD"


def payout_ready_seller():
    """An approved seller whose payout account is enabled and onboarded with the local gateway
    (as tests/sellers/test_payouts.py builds them)."""
    seller = ApprovedSellerFactory(shop_name="Kiln & Co")
    account = PayoutAccountFactory(seller=seller, payouts_enabled=True)
    LocalConnectedAccount.objects.create(
        external_id=account.external_id,
        email=seller.contact_email,
        country="US",
        details_submitted=True,
    )
    return seller


def completed(seller, *lines, at) -> Order:
    """A delivered order of `seller` whose buyer confirmed receipt at `at`."""
    order = delivered_order(seller, *lines)
    order = order_confirm_receipt(order_id=order.pk, buyer=order.buyer, now=at)
    assert order.status == OrderStatus.COMPLETED
    return order


def balance(seller, account) -> int:
    """A seller account's balance on the ledger (`ledger_balance`, in its normal direction)."""
    return ledger_balance(account(seller.pk, USD)).amount_minor


def usd(amount_minor: int) -> str:
    return str(Money(amount_minor, USD))


def minor(text: str) -> int:
    """ "12.50" / "-12.50" (a CSV amount) or "+$1,234.50" / "-$0.21" (a page amount) -> minor units."""
    cleaned = re.sub(r"[^0-9.\-]", "", text)
    return int(Decimal(cleaned) * 100)


def check(page, width: int, name: str) -> None:
    """The page fits the width and broke no policy rule; kept as a screenshot."""
    assert_no_sideways_scroll(page, width)
    assert_no_csp_violations(page)
    screenshot(page, f"finance-journey-{name}-{width}")


def finance_tab(page, name: str) -> None:
    page.get_by_role("navigation", name="Finance pages").get_by_role("link", name=name).click()
    expect(
        page.get_by_role("navigation", name="Finance pages").get_by_role("link", name=name)
    ).to_have_attribute("aria-current", "page")


@pytest.mark.parametrize("device", list(WIDTHS))
def test_a_seller_sees_money_settle_and_be_paid_out_and_downloads_matching_csvs(
    browser, live_server, device
):
    width, height = WIDTHS[device]
    seller = payout_ready_seller()
    now = timezone.now()
    eight_days_ago = now - timedelta(days=8)
    first = completed(seller, (4000, 1), at=eight_days_ago)
    second = completed(seller, (2500, 2), at=eight_days_ago)
    today = completed(seller, (1800, 1), at=now)
    pending_all = balance(seller, accounts.seller_pending)
    assert pending_all > 0
    assert balance(seller, accounts.seller_available) == 0

    context, page = new_watched_page(browser, live_server, width, height)
    try:
        # Seller Center > Finance: all three orders' money is pending, nothing available yet.
        sign_in(page, seller.owner, next_url="/seller/")
        expect(page.get_by_role("heading", name=seller.shop_name, exact=True)).to_be_visible()
        check(page, width, "dashboard")
        page.get_by_role("navigation", name="Seller Center").get_by_role(
            "link", name="Finance", exact=True
        ).click()
        expect(page.get_by_role("heading", name="Finance", exact=True)).to_be_visible()
        expect(stat_value(page, "Pending")).to_have_text(usd(pending_all))
        expect(stat_value(page, "Available")).to_have_text(usd(0))
        expect(stat_value(page, "Paid out")).to_have_text(usd(0))
        pending_list = page.locator(".finance-pending-orders li")
        expect(pending_list).to_have_count(3)
        for order in (first, second, today):
            expect(pending_list.filter(has_text=f"Order {order_number(order.pk)}")).to_have_count(1)
        check(page, width, "pending")

        # The settlement job, eight days after the first two orders completed (now: the ledger's
        # entries stay in the order they happened).
        settle_at = timezone.now()
        assert settle_at >= eight_days_ago + timedelta(days=8)
        settled = orders_settle_due(now=settle_at)
        assert settled == 2
        available = balance(seller, accounts.seller_available)
        still_pending = balance(seller, accounts.seller_pending)
        assert available > 0 and still_pending > 0
        assert available + still_pending == pending_all

        page.reload()
        expect(stat_value(page, "Available")).to_have_text(usd(available))
        expect(stat_value(page, "Pending")).to_have_text(usd(still_pending))
        expect(pending_list).to_have_count(1)
        expect(pending_list).to_contain_text(f"Order {order_number(today.pk)}")
        check(page, width, "settled")

        # The payout job pays the available balance out through the local gateway.
        counts = payouts_run(sleep=lambda seconds: None)
        assert counts["created"] == 1 and counts["paid"] == 1, counts
        payout = Payout.objects.get(seller=seller)
        assert payout.status == Payout.Status.PAID
        assert payout.amount_minor == available
        assert balance(seller, accounts.seller_available) == 0
        assert balance(seller, accounts.seller_payout_in_transit) == 0

        page.reload()
        expect(stat_value(page, "Available")).to_have_text(usd(0))
        expect(stat_value(page, "Paid out")).to_have_text(usd(available))
        expect(page.locator(".finance-payout")).to_contain_text(usd(available))
        check(page, width, "paid-out")

        finance_tab(page, "Payouts")
        row = page.locator(".finance-payout").filter(has_text=f"Payout #{payout.pk}")
        expect(row).to_have_count(1)
        expect(row.locator(".badge")).to_have_text("Paid")
        expect(row).to_contain_text(usd(available))
        expect(row.locator(".finance-payout-outcome")).to_contain_text("Paid")
        check(page, width, "payouts")

        # The statement: its CSV adds up to what the page shows and to the ledger.
        finance_tab(page, "Statements")
        expect(page.locator(".finance-statement")).not_to_have_count(0)
        footer = page.locator(".finance-statement-totals")
        page_settled = minor(footer.locator('[data-label="Settled in"]').inner_text())
        page_payouts = minor(footer.locator('[data-label="Payouts"]').inner_text())
        page_closing = minor(page.locator("#statement-closing").inner_text())
        check(page, width, "statements")
        filename, statement = download_csv(
            page, page.locator(".page-actions").get_by_role("link", name="Download CSV")
        )
        assert filename.startswith("statements-daily-") and filename.endswith(".csv")
        assert statement, "the statement CSV has no period"
        assert {row["currency"] for row in statement} == {USD}
        csv_settled = sum(minor(row["settled"]) for row in statement)
        csv_payouts = sum(minor(row["payouts"]) for row in statement)
        movements = sum(
            minor(row[column])
            for row in statement
            for column in ("settled", "refunds", "payouts", "payouts_returned", "adjustments")
        )
        newest_closing = minor(statement[0]["closing"])  # newest period first, as on the page
        for row in statement:  # each period adds up: opening + movements = closing
            assert minor(row["opening"]) + sum(
                minor(row[column])
                for column in ("settled", "refunds", "payouts", "payouts_returned", "adjustments")
            ) == minor(row["closing"]), row
        assert csv_settled == page_settled == available
        assert csv_payouts == page_payouts == -payout.amount_minor
        assert movements == newest_closing == page_closing
        assert page_closing == balance(seller, accounts.seller_available) == 0

        # The transactions: the CSV holds every row the page lists, and they add up to the
        # seller's balances on the ledger.
        finance_tab(page, "Transactions")
        page_rows = page.locator(".finance-entry")
        expect(page_rows).not_to_have_count(0)
        shown_amounts = [
            minor(text) for text in page_rows.locator(".finance-entry-amount").all_inner_texts()
        ]
        check(page, width, "transactions")
        filename, transactions = download_csv(
            page, page.locator(".page-actions").get_by_role("link", name="Download CSV")
        )
        assert filename.startswith("transactions-") and filename.endswith(".csv")
    finally:
        context.close()

    codes = finance_account_codes(seller=seller, currency=USD)
    assert len(transactions) == len(shown_amounts)
    assert len(transactions) == LedgerEntry.objects.filter(account__code__in=codes.values()).count()
    csv_total = sum(minor(row["amount"]) for row in transactions)
    assert csv_total == sum(shown_amounts)
    ledger_total = sum(
        balance(seller, account)
        for account in (
            accounts.seller_pending,
            accounts.seller_available,
            accounts.seller_payout_in_transit,
        )
    )
    assert balance(seller, accounts.seller_debt) == 0
    assert csv_total == ledger_total == still_pending
    by_type: dict[str, int] = {}
    for row in transactions:
        by_type[row["type"]] = by_type.get(row["type"], 0) + minor(row["amount"])
    assert by_type["Sale"] == pending_all
    assert by_type["Settlement"] == 0  # from pending to available
    assert by_type["Payout"] == -payout.amount_minor  # via in transit, out to the bank
    assert {row["order"] for row in transactions if row["type"] == "Sale"} == {
        order_number(order.pk) for order in (first, second, today)
    }
