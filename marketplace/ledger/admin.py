"""Read-only views of the ledger for platform staff: nothing here can change a posted row.

Beside the rows, a report page: the platform's commission earned per day
(`admin:ledger_revenue`, marketplace.ledger.reports.commission_by_day). Manual adjustments
(`LedgerAdjustment`) are registered by the sellers admin (sellers/admin/payouts.py), because
making one names a shop, which the ledger, below sellers, cannot look up.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from marketplace.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.ledger.reports import RevenueReport, commission_by_day

REVENUE_DAYS = 90
CHART_WIDTH = 720
CHART_HEIGHT = 160


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["account", "amount_minor", "currency"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def revenue_chart(report: RevenueReport) -> dict:
    """Bars for an inline SVG, one per day: the net commission, scaled to the best day (a day
    that gave back more than it earned is drawn empty; the table shows it)."""
    count = len(report.days)
    best = max((day.net.amount_minor for day in report.days), default=0)
    slot = CHART_WIDTH / count if count else CHART_WIDTH
    bars = []
    for index, day in enumerate(report.days):
        value = max(day.net.amount_minor, 0)
        height = round(value / best * (CHART_HEIGHT - 10), 1) if best > 0 else 0
        bars.append(
            {
                "x": round(index * slot, 1),
                "y": round(CHART_HEIGHT - height, 1),
                "width": round(max(slot - 1, 1), 1),
                "height": height,
                "title": f"{day.day.isoformat()}: {day.net}",
            }
        )
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT}


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ["posted_at", "kind", "reference", "idempotency_key"]
    list_filter = ["kind"]
    search_fields = ["reference", "idempotency_key"]
    date_hierarchy = "posted_at"
    inlines = [LedgerEntryInline]

    def get_urls(self):
        own = [
            path(
                "revenue/",
                self.admin_site.admin_view(self.revenue_view),
                name="ledger_revenue",
            ),
        ]
        return own + super().get_urls()

    def revenue_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        reports = commission_by_day(days=REVENUE_DAYS)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Platform revenue",
            "subtitle": f"Commission earned per day, last {REVENUE_DAYS} days",
            "days": REVENUE_DAYS,
            "reports": [
                {
                    "report": report,
                    "chart": revenue_chart(report),
                    "rows": list(reversed(report.days)),
                }
                for report in reports
            ],
        }
        return TemplateResponse(request, "admin/ledger/revenue.html", context)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "currency", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["code"]
