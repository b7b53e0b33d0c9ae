"""Admin for the staff side of seller finance (issue 12): payouts, manual ledger adjustments and
the payout reconciliation report.

- Payouts are read-only here: their money and status move only through the payout services
  (sellers.services.payouts). Staff who may change payouts get two doors into those services:
  the "Retry failed payouts" action (`payout_retry`) and "Run payouts now" (the `run_payouts`
  task, queued on a worker: a full run can take minutes).
- Manual adjustments (`marketplace.ledger.models.LedgerAdjustment`) are registered here, not in
  the ledger's admin: making one names a shop, which sellers may look up and the ledger, below
  it, may not. The form reads the amount as people type it (Money.parse) and calls
  marketplace.ledger.adjustments; approving and rejecting need the
  `ledger.approve_ledgeradjustment` permission, and the service refuses the creator.
- The reconciliation report compares ledger payouts with the gateway's transfers
  (marketplace.ledger.reports.payout_reconciliation), adding what the payout rows say.
"""

import datetime as dt

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from marketplace.errors import DomainError
from marketplace.ledger.adjustments import (
    ADJUSTMENT_MAXIMUM_MINOR,
    adjustment_approve,
    adjustment_create,
    adjustment_reject,
)
from marketplace.ledger.models import LedgerAdjustment
from marketplace.ledger.reports import PayoutFacts, payout_reconciliation
from marketplace.money import CURRENCY_EXPONENTS, Money, MoneyParseError
from sellers.models import Payout, Seller

EMPTY = "—"
RECONCILIATION_DAYS = 30
RECONCILIATION_MAX_DAYS = 366
# The most rows the "everything" view of the reconciliation draws (differences are all shown).
RECONCILIATION_MAX_ROWS = 1000


def money(amount_minor: int | None, currency: str) -> str:
    return EMPTY if amount_minor is None else str(Money(amount_minor, currency))


def when(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else EMPTY


# --- Payouts -----------------------------------------------------------------------------------


class ShopSearchMixin:
    """Search also finds a shop by its id or its slug, as staff copy them from a page."""

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isascii() and term.isdigit() and len(term) < 12:
            results = results | queryset.filter(**{self.seller_id_lookup: int(term)})
        return results, may_have_duplicates


@admin.register(Payout)
class PayoutAdmin(ShopSearchMixin, admin.ModelAdmin):
    seller_id_lookup = "seller_id"
    list_display = [
        "id",
        "shop",
        "amount",
        "status",
        "created_at",
        "paid_at",
        "attempts",
        "failure",
    ]
    list_display_links = ["id"]
    list_filter = ["status", "created_at", "paid_at", "currency"]
    list_select_related = ["seller"]
    search_fields = ["seller__shop_name", "seller__slug", "gateway_transfer_id"]
    date_hierarchy = "created_at"
    actions = ["retry_failed"]
    fields = [
        "shop",
        "amount",
        "status",
        "destination",
        "gateway_transfer_id",
        "idempotency_key",
        "attempts",
        "failure_reason",
        "requested_by",
        "created_at",
        "sent_at",
        "paid_at",
        "failed_at",
        "ledger_link",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        # Payouts are made by the payout job (sellers.services.payouts), never typed in.
        return False

    def has_change_permission(self, request, obj=None):
        # Money and status move only through the services: the actions below, never an edit.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_operate_permission(self, request) -> bool:
        # Retrying or running payouts changes payouts in spirit: admin's change permission.
        return request.user.has_perm("sellers.change_payout")

    def get_urls(self):
        own = [
            path("run/", self.admin_site.admin_view(self.run_view), name="sellers_payout_run"),
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="sellers_payout_reconciliation",
            ),
        ]
        return own + super().get_urls()

    # --- Columns

    @admin.display(description="Shop", ordering="seller__shop_name")
    def shop(self, obj):
        return f"{obj.seller.shop_name} (#{obj.seller_id})"

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money(obj.amount_minor, obj.currency)

    @admin.display(description="Failure")
    def failure(self, obj):
        return obj.failure_reason[:80] or EMPTY

    @admin.display(description="Ledger")
    def ledger_link(self, obj):
        url = reverse("admin:ledger_ledgertransaction_changelist")
        return format_html('<a href="{}?q=payout:{}">Its ledger transactions</a>', url, obj.pk)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_operate": self.has_operate_permission(request),
            "failed_count": Payout.objects.filter(status=Payout.Status.FAILED).count(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    # --- Actions

    @admin.action(description="Retry failed payouts", permissions=["operate"])
    def retry_failed(self, request, queryset):
        from sellers.services.payouts import payout_retry

        retried = 0
        skipped = 0
        for payout in queryset.order_by("pk"):
            if payout.status != Payout.Status.FAILED:
                skipped += 1
                continue
            try:
                payout_retry(payout_id=payout.pk, actor=request.user)
            except DomainError as error:
                self.message_user(request, f"Payout {payout.pk}: {error.message}", messages.WARNING)
            else:
                retried += 1
        if skipped:
            self.message_user(
                request,
                f"Skipped {skipped} payout{'s' if skipped != 1 else ''} that had not failed: "
                "only failed payouts are retried.",
                messages.WARNING,
            )
        if retried:
            self.message_user(
                request,
                f"Retried {retried} failed payout{'s' if retried != 1 else ''}.",
                messages.SUCCESS,
            )

    def run_view(self, request):
        if not self.has_operate_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:sellers_payout_changelist")
        if request.method == "POST":
            # A full run can take minutes (the gateway's rate limit): it runs on a worker, not
            # in this request; the changelist shows the payouts as they are sent.
            from sellers.tasks import run_payouts

            staff_id = request.user.pk
            transaction.on_commit(lambda: run_payouts.delay(requested_by_id=staff_id))
            self.message_user(
                request,
                "The payout run has started in the background: payouts appear here as they are "
                "sent. Reload in a minute.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Run payouts now",
            "changelist_url": changelist,
            "minimum": Money(settings.PAYOUT_MINIMUM_MINOR, settings.MARKETPLACE_CURRENCY),
        }
        return TemplateResponse(request, "admin/sellers/payout/run.html", context)

    # --- Reconciliation

    def reconciliation_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = int(request.GET.get("days", RECONCILIATION_DAYS))
        except ValueError:
            days = RECONCILIATION_DAYS
        days = min(max(days, 1), RECONCILIATION_MAX_DAYS)
        show_all = request.GET.get("all") == "1"
        since = timezone.now() - dt.timedelta(days=days)
        report = reconciliation_report(since=since)
        rows = report.rows if show_all else report.differences
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Payout reconciliation",
            "days": days,
            "since": since,
            "show_all": show_all,
            "report": report,
            "rows": rows[:RECONCILIATION_MAX_ROWS],
            "cut": len(rows) > RECONCILIATION_MAX_ROWS,
            "changelist_url": reverse("admin:sellers_payout_changelist"),
            "gateway": settings.PAYMENT_GATEWAY,
        }
        return TemplateResponse(request, "admin/sellers/payout/reconciliation.html", context)


def _facts(payouts) -> dict[int, PayoutFacts]:
    return {
        payout.pk: PayoutFacts(
            payout_id=payout.pk,
            seller_id=payout.seller_id,
            amount_minor=payout.amount_minor,
            currency=payout.currency,
            status=payout.status,
            gateway_transfer_id=payout.gateway_transfer_id,
            label=payout.seller.shop_name,
        )
        for payout in payouts
    }


def reconciliation_report(*, since):
    """The reconciliation since `since`, with every payout row it touches: those created since,
    then those the ledger or the gateway named without a row among them (a second read). A
    ledger payout or transfer whose payout row does not exist at all is listed as such."""
    rows = Payout.objects.select_related("seller")
    facts = _facts(rows.filter(created_at__gte=since))
    report = payout_reconciliation(since=since, payouts=facts)
    missing = {row.payout_id for row in report.rows} - set(facts)
    if missing:
        facts.update(_facts(rows.filter(pk__in=missing)))
        report = payout_reconciliation(since=since, payouts=facts)
    shops = dict(
        Seller.objects.filter(
            pk__in={row.seller_id for row in report.rows if row.seller_id and not row.label}
        ).values_list("pk", "shop_name")
    )
    for row in report.rows:
        if row.payout_id not in facts:
            row.differences.insert(0, "No payout row with this id.")
        if not row.label and row.seller_id:
            row.label = shops.get(row.seller_id, "")
    return report


# --- Manual adjustments ------------------------------------------------------------------------


class AdjustmentForm(forms.Form):
    """Web input only: which shop, credit or debit, the amount as typed ("12.50"), the reason.
    The rules (threshold, second approver, positive amount) are the service's."""

    shop = forms.CharField(
        label="Shop",
        max_length=80,
        help_text="The shop's id (#42) or the slug of its address (/shop/<slug>/).",
    )
    direction = forms.ChoiceField(
        label="Direction",
        choices=LedgerAdjustment.Direction.choices,
        widget=forms.RadioSelect,
    )
    amount = forms.CharField(
        label="Amount",
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label="Currency")
    reason = forms.CharField(
        label="Reason",
        max_length=LedgerAdjustment._meta.get_field("reason").max_length,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Shown to the shop with the transaction in its Finance section.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = settings.MARKETPLACE_CURRENCY
        self.fields["currency"].choices = [(default, default)] + [
            (code, code) for code in sorted(CURRENCY_EXPONENTS) if code != default
        ]
        self.fields["currency"].initial = default
        threshold = Money(settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR, default)
        self.fields["amount"].help_text = (
            f"As you would write it, such as {Money.example(default)}. From {threshold} up "
            "(in minor units of any currency) a second staff member must approve it."
        )

    def clean_shop(self) -> Seller:
        text = self.cleaned_data["shop"].strip().lstrip("#").strip()
        shop = None
        if text.isascii() and text.isdigit() and len(text) < 12:
            shop = Seller.objects.filter(pk=int(text)).first()
        if shop is None:
            slug = text.strip("/").removeprefix("shop/").strip("/")
            shop = Seller.objects.filter(slug=slug).first() if slug else None
        if shop is None:
            raise forms.ValidationError("No shop with this id or address.")
        return shop

    def clean(self):
        cleaned = super().clean()
        text, currency = cleaned.get("amount"), cleaned.get("currency")
        if text is not None and currency:
            try:
                amount = Money.parse(text, currency, maximum_minor=ADJUSTMENT_MAXIMUM_MINOR)
            except MoneyParseError as error:
                self.add_error("amount", error.message)
            else:
                if amount.amount_minor <= 0:
                    self.add_error("amount", "The amount must be more than zero.")
                else:
                    cleaned["amount_minor"] = amount.amount_minor
        return cleaned


@admin.register(LedgerAdjustment)
class LedgerAdjustmentAdmin(ShopSearchMixin, admin.ModelAdmin):
    seller_id_lookup = "seller_id"
    list_display = [
        "id",
        "shop",
        "direction",
        "amount",
        "status",
        "created_by",
        "approved_by",
        "created_at",
        "posted_at",
    ]
    list_display_links = ["id"]
    list_filter = ["status", "direction", "currency", "created_at"]
    list_select_related = ["created_by", "approved_by"]
    search_fields = ["shop_name", "reason"]
    date_hierarchy = "created_at"
    actions = ["approve_selected", "reject_selected"]
    fields = [
        "shop",
        "direction",
        "amount",
        "reason",
        "status",
        "created_by",
        "created_at",
        "approved_by",
        "rejected_by",
        "rejection_reason",
        "decided_at",
        "posted_at",
        "ledger_link",
    ]
    readonly_fields = fields

    def has_change_permission(self, request, obj=None):
        # An adjustment is never edited: a wrong one is rejected, or undone by its opposite.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request) -> bool:
        return request.user.has_perm("ledger.approve_ledgeradjustment")

    # --- Columns

    @admin.display(description="Shop", ordering="shop_name")
    def shop(self, obj):
        return f"{obj.shop_name or 'Shop'} (#{obj.seller_id})"

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj):
        return money(obj.amount_minor, obj.currency)

    @admin.display(description="Ledger")
    def ledger_link(self, obj):
        if obj.status != LedgerAdjustment.Status.POSTED:
            return "Not posted."
        url = reverse("admin:ledger_ledgertransaction_changelist")
        return format_html(
            '<a href="{}?q={}">{}</a>', url, obj.transaction_key, obj.transaction_key
        )

    # --- Making one

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AdjustmentForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            shop = form.cleaned_data["shop"]
            try:
                adjustment = adjustment_create(
                    seller_id=shop.pk,
                    shop_name=shop.shop_name,
                    direction=form.cleaned_data["direction"],
                    amount_minor=form.cleaned_data["amount_minor"],
                    currency=form.cleaned_data["currency"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                amount = money(adjustment.amount_minor, adjustment.currency)
                if adjustment.status == LedgerAdjustment.Status.POSTED:
                    text = f"Posted: a {adjustment.direction} of {amount} for {shop.shop_name}."
                else:
                    text = (
                        f"Saved: a {adjustment.direction} of {amount} for {shop.shop_name}. "
                        "It waits for another staff member's approval."
                    )
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:ledger_ledgeradjustment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Make a manual adjustment",
            "form": form,
            "changelist_url": reverse("admin:ledger_ledgeradjustment_changelist"),
            "threshold": Money(
                settings.LEDGER_ADJUSTMENT_APPROVAL_MINOR, settings.MARKETPLACE_CURRENCY
            ),
        }
        return TemplateResponse(request, "admin/ledger/ledgeradjustment/create.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "waiting_count": LedgerAdjustment.objects.filter(
                status=LedgerAdjustment.Status.PENDING_APPROVAL
            ).count(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    # --- Deciding

    @admin.action(description="Approve and post selected adjustments", permissions=["approve"])
    def approve_selected(self, request, queryset):
        self._decide(request, queryset, adjustment_approve, "Approved and posted")

    @admin.action(description="Reject selected adjustments", permissions=["approve"])
    def reject_selected(self, request, queryset):
        self._decide(request, queryset, adjustment_reject, "Rejected")

    def _decide(self, request, queryset, service, done: str):
        if not self.has_approve_permission(request):
            raise PermissionDenied
        count = 0
        for adjustment in queryset.order_by("pk"):
            try:
                service(adjustment_id=adjustment.pk, actor=request.user)
            except DomainError as error:
                self.message_user(
                    request, f"Adjustment {adjustment.pk}: {error.message}", messages.WARNING
                )
            else:
                count += 1
        if count:
            self.message_user(
                request,
                f"{done} {count} adjustment{'s' if count != 1 else ''}.",
                messages.SUCCESS,
            )
