"""Seller Center > Finance (/seller/finance/): balances, transactions, statements, payouts.

Read-only pages over the ledger and `Payout` (reads in sellers/finance.py, each filtered by
`request.seller`'s own account codes). Every view is wrapped in
`seller_center_view(Section.FINANCE, require_approved=True)`: a role without Finance, or a shop
not approved yet, gets 404. The CSV exports stream (a generator over `.iterator()`), so a long
history never sits in memory.
"""

import csv
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from marketplace.money import Money, exponent_of
from sellers import finance
from sellers.access import seller_center_view
from sellers.models import PayoutAccount
from sellers.roles import Section, can_open

TRANSACTIONS_PAGE_SIZE = 50
PAYOUTS_PAGE_SIZE = 25
STATEMENTS_PAGE_SIZE = 60
CSV_CHUNK_SIZE = 2000
RECENT = 10


class EntryFilterForm(forms.Form):
    """The Transactions page's filters (all optional; dates inclusive)."""

    type = forms.ChoiceField(
        required=False,
        choices=[("", "All types"), *finance.TYPE_LABELS.items()],
        error_messages={"invalid_choice": "choose a type from the list."},
    )
    account = forms.ChoiceField(
        required=False,
        choices=[("", "All accounts"), *finance.ACCOUNT_LABELS.items()],
        error_messages={"invalid_choice": "choose an account from the list."},
    )
    date_from = forms.DateField(
        required=False, label="From", error_messages={"invalid": "enter a date such as 2026-03-31."}
    )
    date_to = forms.DateField(
        required=False, label="To", error_messages={"invalid": "enter a date such as 2026-03-31."}
    )

    def clean(self):
        cleaned = super().clean()
        for name in ("date_from", "date_to"):
            value = cleaned.get(name)
            if value and not 2000 <= value.year <= 2999:
                self.add_error(name, "choose a date between the years 2000 and 2999.")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned


FILTER_PARAMS = ("type", "account", "date_from", "date_to")


def _filters(request) -> tuple[finance.EntryFilters, dict, list[str]]:
    """The filters that parsed, the raw parameters to show back, and the messages for the rest
    (a bad value filters nothing and says why; never a 500)."""
    raw = {key: request.GET.get(key, "").replace("\x00", "")[:20] for key in FILTER_PARAMS}
    form = EntryFilterForm(raw)
    errors: list[str] = []
    if form.is_valid():
        data = form.cleaned_data
    else:
        errors = [str(error) for error in form.non_field_errors()]
        for name, field_errors in form.errors.items():
            if name != "__all__":
                label = form.fields[name].label or name.replace("_", " ").capitalize()
                errors += [f"{label}: {error}" for error in field_errors]
        data = {
            key: value
            for key, value in getattr(form, "cleaned_data", {}).items()
            if key not in form.errors
        }
        if form.non_field_errors():
            data.pop("date_from", None)
            data.pop("date_to", None)
    filters = finance.EntryFilters(
        type=data.get("type") or "",
        account=data.get("account") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
    )
    return filters, raw, errors


def _query_string(filters: finance.EntryFilters) -> str:
    params = {
        "type": filters.type,
        "account": filters.account,
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    return urlencode({key: value for key, value in params.items() if value})


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def overview(request):
    seller = request.seller
    balances = finance.finance_balances(seller=seller)
    series = finance.finance_daily_available(seller=seller)
    recent = list(
        finance.entry_rows(
            finance.finance_entries(seller=seller).values_list(*finance.ENTRY_FIELDS)[:RECENT],
            seller=seller,
        )
    )
    context = {
        "seller": seller,
        "balances": balances,
        "currency": balances.currency,
        "chart": finance.finance_chart(series),
        "recent": recent,
        "recent_payouts": list(finance.finance_payouts(seller=seller)[:5]),
        "pending_orders": finance.finance_pending_orders(seller=seller),
        "hold_days_text": _days(settings.SETTLEMENT_HOLD_DAYS),
        "payout_minimum": Money(settings.PAYOUT_MINIMUM_MINOR, balances.currency),
        "payout_account": PayoutAccount.objects.filter(seller=seller).first(),
        "can_manage_payouts": can_open(request.seller_member.role, Section.SETTINGS),
    }
    return render(request, "sellers/seller_center/finance.html", context)


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def transactions(request):
    seller = request.seller
    filters, raw, errors = _filters(request)
    entries = finance.finance_entries(seller=seller, filters=filters).values_list(
        *finance.ENTRY_FIELDS
    )
    page_obj = Paginator(entries, TRANSACTIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = _query_string(filters)
    context = {
        "seller": seller,
        "page_obj": page_obj,
        "rows": list(finance.entry_rows(page_obj.object_list, seller=seller)),
        "filters": filters,
        "raw": raw,
        "filter_errors": errors,
        "filtered": bool(query_string),
        "query_string": query_string,
        "type_choices": finance.TYPE_LABELS.items(),
        "account_choices": finance.ACCOUNT_LABELS.items(),
    }
    return render(request, "sellers/seller_center/finance_transactions.html", context)


def _csv_line(values) -> str:
    buffer = _LineBuffer()
    csv.writer(buffer).writerow(values)
    return buffer.line


class _LineBuffer:
    line = ""

    def write(self, text: str) -> None:
        self.line = text


def _amount(amount_minor: int, currency: str) -> str:
    """An amount for a spreadsheet: plain decimal, no symbol ("-12.50")."""
    return f"{Money(amount_minor, currency).decimal:.{exponent_of(currency)}f}"


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def transactions_csv(request):
    seller = request.seller
    filters, _, _ = _filters(request)
    entries = (
        finance.finance_entries(seller=seller, filters=filters)
        .values_list(*finance.ENTRY_FIELDS)
        .iterator(chunk_size=CSV_CHUNK_SIZE)
    )

    def lines():
        yield _csv_line(
            [
                "posted_at",
                "type",
                "account",
                "order",
                "reference",
                "description",
                "amount",
                "currency",
            ]
        )
        for row in finance.entry_rows(entries, seller=seller):
            yield _csv_line(
                [
                    timezone.localtime(row.posted_at).isoformat(),
                    row.type_label,
                    row.account_label,
                    row.order_number,
                    row.reference,
                    row.description,
                    _amount(row.amount, row.currency),
                    row.currency,
                ]
            )

    stamp = timezone.localdate().isoformat()
    return _csv_response(lines(), f"transactions-{seller.slug}-{stamp}.csv")


def _period(request) -> str:
    period = request.GET.get("period", "daily")
    return period if period in finance.PERIODS else "daily"


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def statements(request):
    seller = request.seller
    period = _period(request)
    rows = finance.finance_statements(seller=seller, period=period)
    page_obj = Paginator(rows, STATEMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    totals = finance.statement_totals(rows)
    context = {
        "seller": seller,
        "currency": finance.seller_currency(seller=seller),
        "period": period,
        "periods": finance.PERIODS.items(),
        "page_obj": page_obj,
        "rows": page_obj.object_list,
        "totals": totals,
        # Columns with nothing in any period stay off the page (the CSV has every column).
        "show_returned": any(row.payouts_returned for row in rows),
        "show_adjustments": any(row.adjustments for row in rows),
        "show_debt": any(row.debt_repaid or row.added_to_debt for row in rows),
        "query_string": urlencode({"period": period}),
        "unknown_period": "period" in request.GET and request.GET["period"] not in finance.PERIODS,
    }
    return render(request, "sellers/seller_center/finance_statements.html", context)


STATEMENT_HEADER = [
    "period_start",
    "period_end",
    "opening",
    "settled",
    "refunds",
    "payouts",
    "payouts_returned",
    "adjustments",
    "closing",
    "debt_repaid",
    "added_to_debt",
    "currency",
]


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def statements_csv(request):
    seller = request.seller
    period = _period(request)
    currency = finance.seller_currency(seller=seller)
    # Periods are aggregated in the database: one row per day or week, not per entry.
    rows = finance.finance_statements(seller=seller, period=period)

    def lines():
        yield _csv_line(STATEMENT_HEADER)
        for row in rows:
            yield _csv_line(
                [
                    row.start.isoformat(),
                    row.end.isoformat(),
                    *(_amount(getattr(row, name), currency) for name in STATEMENT_HEADER[2:-1]),
                    currency,
                ]
            )

    stamp = timezone.localdate().isoformat()
    return _csv_response(lines(), f"statements-{period}-{seller.slug}-{stamp}.csv")


@seller_center_view(Section.FINANCE, require_approved=True)
@require_safe
def payouts(request):
    seller = request.seller
    page_obj = Paginator(finance.finance_payouts(seller=seller), PAYOUTS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "seller": seller,
        "page_obj": page_obj,
        "payouts": page_obj.object_list,
        "payout_minimum": Money(
            settings.PAYOUT_MINIMUM_MINOR, finance.seller_currency(seller=seller)
        ),
        "payout_account": PayoutAccount.objects.filter(seller=seller).first(),
        "can_manage_payouts": can_open(request.seller_member.role, Section.SETTINGS),
    }
    return render(request, "sellers/seller_center/finance_payouts.html", context)
