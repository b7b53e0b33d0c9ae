"""Admin: the staff's arbitration queue (disputes) and return requests, read-only.

Staff work the dispute list: open disputes first, the longest waiting at the top. A dispute's page
shows what both sides said and sent (their statements, the request with its lines and amounts,
each side's evidence as downloads, the return parcel with its tracking events, the request's
timeline). Each decision (for the buyer, in full or a typed part; for the seller) asks for the
note both sides read on a page of its own, then calls returns.services.disputes.dispute_decide,
so the admin writes the same rows, refund, ledger postings and emails as any other caller; a
refusal (no note, an amount out of range, a dispute decided meanwhile) is an error message on
that page. Nothing here edits a status or an amount: requests move only through the services.
Evidence files have no URL of their own: staff-only admin views stream them as attachments.
"""

import re
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from marketplace.errors import DomainError
from marketplace.money import Money, MoneyParseError
from marketplace.uploads import private_file_response, private_storage
from orders.carriers import carrier_get
from returns.models import (
    Dispute,
    DisputeStatus,
    Party,
    ReturnEvidence,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
    ReturnStatusEvent,
)
from returns.services.common import TEXT_MAX_LENGTH
from returns.services.disputes import dispute_decide

EMPTY = "—"
# The most a typed amount may be before the service's range check (what the column holds).
MAX_TYPED_MINOR = 2_147_483_647


def money(amount_minor: int | None, currency: str) -> str:
    return EMPTY if amount_minor is None else str(Money(amount_minor, currency))


def when(moment) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else EMPTY


# --- Search by number --------------------------------------------------------------------------

# A request number (R0000012), an order number (A0000012), or a bare number (either).
NUMBER = re.compile(r"([AR])?0*(\d{1,12})", re.IGNORECASE)


class NumberSearchMixin:
    """Search also finds a request or an order by the number people read (R0000012, A0000012),
    which is the primary key written out, not a stored text."""

    request_lookup = "pk"
    order_lookup = "order_id"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = NUMBER.fullmatch(search_term.strip())
        if match:
            prefix, number = (match.group(1) or "").upper(), int(match.group(2))
            condition = Q()
            if prefix in ("", "R"):
                condition |= Q(**{self.request_lookup: number})
            if prefix in ("", "A"):
                condition |= Q(**{self.order_lookup: number})
            results = results | queryset.filter(condition)
        return results, may_have_duplicates


# --- What both admins show ---------------------------------------------------------------------


def evidence_response(evidence: ReturnEvidence):
    if not evidence.file:
        raise Http404("No such evidence.")
    try:
        handle = private_storage.open(evidence.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The file of this evidence is missing.") from None
    return private_file_response(
        handle, filename=evidence.original_name, content_type=evidence.content_type
    )


def evidence_list(request: ReturnRequest, *, party: str, url_for) -> str:
    rows = [item for item in request.evidence.all() if item.party == party]
    if not rows:
        return EMPTY
    return format_html(
        '<ul class="returns-evidence">{}</ul>',
        format_html_join(
            "",
            '<li><a href="{}">{}</a> ({}, {})</li>',
            (
                (
                    url_for(item),
                    item.original_name,
                    item.get_stage_display().lower(),
                    when(item.created_at),
                )
                for item in rows
            ),
        ),
    )


# The admin's form rows hide what overflows them; on a phone a wide table scrolls inside this
# instead of being cut off (inline styles are allowed under /admin/ only).
SCROLL = '<div style="overflow-x: auto; max-width: 100%;">'


def request_lines_table(request: ReturnRequest) -> str:
    lines = list(request.lines.select_related("order_line"))
    return format_html(
        SCROLL
        + "<table><thead><tr><th>Item</th><th>SKU</th><th>Units asked about</th><th>Bought</th>"
        "<th>Amount</th></tr></thead><tbody>{}</tbody></table></div>",
        format_html_join(
            "",
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line.order_line.product_title,
                    f" ({line.order_line.option_label})"
                    if line.order_line.option_label not in ("", "Default")
                    else "",
                    line.order_line.sku_code,
                    line.quantity,
                    line.order_line.quantity,
                    money(line.amount_minor, request.currency),
                )
                for line in lines
            ),
        ),
    )


def return_parcel(request: ReturnRequest) -> str:
    shipment = request.return_shipment
    if shipment is None:
        return "No parcel: nothing was sent back."
    carrier = carrier_get(shipment.carrier)
    events = list(shipment.events.all())
    summary = format_html(
        "<p>{} {}: <strong>{}</strong>{}</p>",
        carrier.name if carrier else shipment.carrier,
        shipment.tracking_number,
        shipment.get_status_display(),
        format_html(", delivered {}", when(shipment.delivered_at)) if shipment.delivered_at else "",
    )
    if not events:
        return format_html("{}<p>No tracking event yet.</p>", summary)
    return format_html(
        "{}"
        + SCROLL
        + "<table><thead><tr><th>When</th><th>Event</th><th>Where</th><th>Details</th></tr>"
        "</thead><tbody>{}</tbody></table></div>",
        summary,
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    when(event.occurred_at),
                    event.get_kind_display(),
                    event.location,
                    event.description,
                )
                for event in reversed(events)
            ),
        ),
    )


def request_timeline(request: ReturnRequest) -> str:
    labels = dict(ReturnStatus.choices)
    events = list(ReturnStatusEvent.objects.filter(request=request).select_related("actor"))
    if not events:
        return EMPTY
    return format_html(
        SCROLL
        + "<table><thead><tr><th>When</th><th>From</th><th>To</th><th>By</th><th>Message</th></tr>"
        "</thead><tbody>{}</tbody></table></div>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    when(event.created_at),
                    labels.get(event.from_status, EMPTY),
                    labels.get(event.to_status, event.to_status),
                    event.actor.email if event.actor else "the marketplace",
                    event.message,
                )
                for event in events
            ),
        ),
    )


# --- Disputes: the arbitration queue -----------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    for_buyer: bool
    label: str
    explanation: str
    note_help: str


DECISIONS: dict[str, Decision] = {
    "buyer": Decision(
        for_buyer=True,
        label="Decide for the buyer",
        explanation=(
            "The buyer is refunded through the payment gateway, in full or the part you type, "
            "and the request is refunded; the seller's share and the commission are taken back. "
            "Both sides are emailed this note."
        ),
        note_help="Emailed to the buyer and the seller. Say what the evidence shows and why the "
        "buyer gets this refund.",
    ),
    "seller": Decision(
        for_buyer=False,
        label="Decide for the seller",
        explanation="No refund: the request is closed. Both sides are emailed this note.",
        note_help="Emailed to the buyer and the seller. Say what the evidence shows and why "
        "there is no refund.",
    ),
}


class DisputeDecisionForm(forms.Form):
    """The note and, deciding for the buyer, the refund typed as money ("12.50"; empty: what
    was asked). Whether the note is there and the amount within what was asked is the service's
    rule."""

    amount = forms.CharField(
        label="Refund",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
    )

    def __init__(self, *args, currency: str, for_buyer: bool, asked_minor: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        if for_buyer:
            self.fields["amount"].help_text = (
                f"Leave empty to refund everything asked, {Money(asked_minor, currency)}; or type "
                "a smaller amount, such as 12.50."
            )
        else:
            del self.fields["amount"]

    def clean_amount(self) -> int | None:
        text = self.cleaned_data["amount"].strip()
        if not text:
            return None
        try:
            return Money.parse(text, self.currency, maximum_minor=MAX_TYPED_MINOR).amount_minor
        except MoneyParseError as error:
            raise forms.ValidationError(error.message) from None


# Open disputes first; within each group the longest waiting first (created_at, id).
OPEN_FIRST = Case(
    When(status=DisputeStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
).asc()


@admin.register(Dispute)
class DisputeAdmin(NumberSearchMixin, admin.ModelAdmin):
    request_lookup = "request_id"
    order_lookup = "request__order_id"

    # Few columns, so the queue fits a laptop screen; the opener and the order are filters and
    # search terms, and on the dispute's page.
    list_display = ["request_number", "shop", "buyer", "amount_asked", "age", "status"]
    list_display_links = ["request_number"]
    list_filter = ["status", "opened_by"]
    list_select_related = ["request__order", "request__seller", "request__buyer"]
    search_fields = ["request__buyer__email", "request__seller__shop_name"]
    ordering = [OPEN_FIRST, "created_at", "id"]
    fieldsets = [
        (
            "Dispute",
            {"fields": ["status", "opened_by", "opened_by_user", "created_at", "age"]},
        ),
        ("Statements", {"fields": ["buyer_statement", "seller_statement"]}),
        (
            "Request",
            {
                "fields": [
                    "request_link",
                    "order_number",
                    "shop",
                    "buyer",
                    "kind",
                    "reason",
                    "description",
                    "request_status",
                    "reject_reason",
                    "amount_asked",
                    "offer",
                    "lines",
                ]
            },
        ),
        ("Evidence", {"fields": ["buyer_evidence", "seller_evidence"]}),
        ("Return parcel", {"fields": ["parcel"]}),
        ("Timeline", {"fields": ["timeline"]}),
        (
            "Decision",
            {"fields": ["refund_amount", "decision_note", "decided_by", "decided_at"]},
        ),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        # A dispute opens when a side escalates its request (returns.services.disputes).
        return False

    def has_change_permission(self, request, obj=None):
        # Decisions are pages that call dispute_decide, never edits of the row.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "request__order",
                "request__seller",
                "request__buyer",
                "request__return_shipment",
                "opened_by_user",
                "decided_by",
            )
        )

    def get_urls(self):
        own = [
            path(
                "<int:dispute_id>/decide/<str:side>/",
                self.admin_site.admin_view(self.decide_view),
                name="returns_dispute_decide",
            ),
            path(
                "<int:dispute_id>/evidence/<int:evidence_id>/",
                self.admin_site.admin_view(self.evidence_view),
                name="returns_dispute_evidence",
            ),
        ]
        return own + super().get_urls()

    # --- Columns and fields

    @admin.display(description="Request", ordering="request_id")
    def request_number(self, obj):
        return obj.request.number

    @admin.display(description="Order", ordering="request__order_id")
    def order_number(self, obj):
        return obj.request.order.number

    @admin.display(description="Shop", ordering="request__seller__shop_name")
    def shop(self, obj):
        return obj.request.seller.shop_name

    @admin.display(description="Buyer", ordering="request__buyer__email")
    def buyer(self, obj):
        return obj.request.buyer.email

    @admin.display(description="Amount asked", ordering="request__requested_amount_minor")
    def amount_asked(self, obj):
        return money(obj.request.requested_amount_minor, obj.request.currency)

    @admin.display(description="Waiting for", ordering="-created_at")
    def age(self, obj):
        return timesince(obj.created_at, depth=1)

    @admin.display(description="Request")
    def request_link(self, obj):
        url = reverse("admin:returns_returnrequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request.number)

    @admin.display(description="Kind")
    def kind(self, obj):
        return obj.request.get_kind_display()

    @admin.display(description="Reason")
    def reason(self, obj):
        return obj.request.get_reason_display()

    @admin.display(description="Buyer's description")
    def description(self, obj):
        return obj.request.description or EMPTY

    @admin.display(description="Request status")
    def request_status(self, obj):
        return obj.request.get_status_display()

    @admin.display(description="Seller's reason for rejecting")
    def reject_reason(self, obj):
        return obj.request.reject_reason or EMPTY

    @admin.display(description="Seller's partial offer")
    def offer(self, obj):
        return money(obj.request.offer_amount_minor, obj.request.currency)

    @admin.display(description="Items")
    def lines(self, obj):
        return request_lines_table(obj.request)

    @admin.display(description="Buyer's evidence")
    def buyer_evidence(self, obj):
        return evidence_list(obj.request, party=Party.BUYER, url_for=self._evidence_url(obj))

    @admin.display(description="Seller's evidence")
    def seller_evidence(self, obj):
        return evidence_list(obj.request, party=Party.SELLER, url_for=self._evidence_url(obj))

    @admin.display(description="Return parcel")
    def parcel(self, obj):
        return return_parcel(obj.request)

    @admin.display(description="Request timeline")
    def timeline(self, obj):
        return request_timeline(obj.request)

    @admin.display(description="Refunded")
    def refund_amount(self, obj):
        return money(obj.refund_amount_minor, obj.request.currency)

    def _evidence_url(self, obj):
        return lambda item: reverse("admin:returns_dispute_evidence", args=[obj.pk, item.pk])

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "open_count": Dispute.objects.filter(status=DisputeStatus.OPEN).count(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # get_object answers None for any id that is not one.
        dispute = self.get_object(request, unquote(object_id))
        decisions = []
        if (
            dispute is not None
            and dispute.status == DisputeStatus.OPEN
            and self._may_decide(request)
        ):
            decisions = [
                (key, decision, reverse("admin:returns_dispute_decide", args=[dispute.pk, key]))
                for key, decision in DECISIONS.items()
            ]
        extra_context = {**(extra_context or {}), "decisions": decisions}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Evidence

    def evidence_view(self, request, dispute_id, evidence_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        evidence = ReturnEvidence.objects.filter(
            pk=evidence_id, request__dispute__pk=dispute_id
        ).first()
        if evidence is None:
            raise Http404("No such evidence.")
        return evidence_response(evidence)

    # --- Decisions

    def _may_decide(self, request) -> bool:
        # A decision changes the dispute in spirit; admin's change permission says who may.
        return request.user.has_perm("returns.change_dispute")

    def decide_view(self, request, dispute_id, side):
        if not self._may_decide(request):
            raise PermissionDenied
        decision = DECISIONS.get(side)
        dispute = (
            Dispute.objects.select_related("request__order", "request__seller", "request__buyer")
            .filter(pk=dispute_id)
            .first()
        )
        if decision is None or dispute is None:
            raise Http404("No such decision.")
        return_request = dispute.request
        form = DisputeDecisionForm(
            request.POST if request.method == "POST" else None,
            currency=return_request.currency,
            for_buyer=decision.for_buyer,
            asked_minor=return_request.requested_amount_minor,
        )
        form.fields["note"].help_text = decision.note_help
        if request.method == "POST" and form.is_valid():
            try:
                decided = dispute_decide(
                    dispute_id=dispute.pk,
                    staff=request.user,
                    for_buyer=decision.for_buyer,
                    note=form.cleaned_data["note"],
                    refund_amount_minor=form.cleaned_data.get("amount"),
                )
            except DomainError as error:
                self.message_user(request, f"Dispute {dispute.pk}: {error.message}", messages.ERROR)
                dispute.refresh_from_db()
            else:
                self.message_user(request, self._done_message(decided), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:returns_dispute_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.label}: dispute {dispute.pk}",
            "subtitle": None,
            "opts": self.opts,
            "original": dispute,
            "return_request": return_request,
            "amount_asked": money(return_request.requested_amount_minor, return_request.currency),
            "decision": decision,
            "applies": dispute.status == DisputeStatus.OPEN,
            "form": form,
            "change_url": reverse("admin:returns_dispute_change", args=[dispute.pk]),
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request,
            "admin/returns/dispute/decision.html",
            context,
            status=400 if request.method == "POST" else 200,
        )

    def _done_message(self, dispute: Dispute) -> str:
        number = dispute.request.number
        if dispute.status == DisputeStatus.DECIDED_FOR_BUYER:
            refunded = money(dispute.refund_amount_minor, dispute.request.currency)
            return (
                f"Dispute {dispute.pk} (request {number}) decided for the buyer: {refunded} is "
                "being refunded. Both sides have been emailed your note."
            )
        return (
            f"Dispute {dispute.pk} (request {number}) decided for the seller: the request is "
            "closed. Both sides have been emailed your note."
        )


# --- Return requests, read-only ----------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReturnRequestLineInline(ReadOnlyInline):
    model = ReturnRequestLine
    fields = ["item", "quantity", "amount", "not_resellable_quantity", "restocked_quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line", "request")

    @admin.display(description="Item")
    def item(self, obj):
        return f"{obj.order_line.product_title} ({obj.order_line.sku_code})"

    @admin.display(description="Amount")
    def amount(self, obj):
        return money(obj.amount_minor, obj.request.currency)


class ReturnEvidenceInline(ReadOnlyInline):
    model = ReturnEvidence
    fields = ["party", "stage", "download", "content_type", "uploaded_by", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="File")
    def download(self, obj):
        url = reverse("admin:returns_returnrequest_evidence", args=[obj.request_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.original_name)


class ReturnStatusEventInline(ReadOnlyInline):
    model = ReturnStatusEvent
    fields = ["created_at", "from_status", "to_status", "actor", "message"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(ReturnRequest)
class ReturnRequestAdmin(NumberSearchMixin, admin.ModelAdmin):
    """Read-only: a request moves only through returns.services (a dispute's decision through
    the dispute's page)."""

    list_display = [
        "number",
        "order_number",
        "shop",
        "buyer_email",
        "kind",
        "reason",
        "status",
        "amount_asked",
        "created_at",
    ]
    list_filter = ["status", "kind", "reason"]
    list_select_related = ["order", "seller", "buyer"]
    search_fields = ["buyer__email", "seller__shop_name"]
    inlines = [ReturnRequestLineInline, ReturnEvidenceInline, ReturnStatusEventInline]
    fieldsets = [
        (
            "Request",
            {
                "fields": [
                    "number",
                    "order_link",
                    "shop",
                    "buyer_email",
                    "kind",
                    "reason",
                    "description",
                    "status",
                    "amount_asked",
                    "offer",
                    "refund_link",
                    "reject_reason",
                    "close_reason",
                    "created_at",
                ]
            },
        ),
        (
            "Deadlines",
            {
                "fields": [
                    "respond_by",
                    "offer_expires_at",
                    "ship_back_by",
                    "return_delivered_at",
                    "confirm_receipt_by",
                    "escalate_by",
                ]
            },
        ),
        ("Return parcel", {"fields": ["parcel"]}),
        ("Dispute", {"fields": ["dispute_link"]}),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("order", "seller", "buyer", "refund", "return_shipment")
        )

    def get_urls(self):
        own = [
            path(
                "<int:request_id>/evidence/<int:evidence_id>/",
                self.admin_site.admin_view(self.evidence_view),
                name="returns_returnrequest_evidence",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="Request", ordering="pk")
    def number(self, obj):
        return obj.number

    @admin.display(description="Order", ordering="order_id")
    def order_number(self, obj):
        return obj.order.number

    @admin.display(description="Order")
    def order_link(self, obj):
        url = reverse("admin:orders_order_change", args=[obj.order_id])
        return format_html('<a href="{}">{}</a>', url, obj.order.number)

    @admin.display(description="Shop", ordering="seller__shop_name")
    def shop(self, obj):
        return obj.seller.shop_name

    @admin.display(description="Buyer", ordering="buyer__email")
    def buyer_email(self, obj):
        return obj.buyer.email

    @admin.display(description="Amount asked", ordering="requested_amount_minor")
    def amount_asked(self, obj):
        return money(obj.requested_amount_minor, obj.currency)

    @admin.display(description="Seller's partial offer")
    def offer(self, obj):
        return money(obj.offer_amount_minor, obj.currency)

    @admin.display(description="Refund")
    def refund_link(self, obj):
        if obj.refund is None:
            return EMPTY
        url = reverse("admin:orders_refund_change", args=[obj.refund_id])
        return format_html(
            '<a href="{}">{} ({})</a>',
            url,
            money(obj.refund.amount_minor, obj.refund.currency),
            obj.refund.get_status_display().lower(),
        )

    @admin.display(description="Return parcel")
    def parcel(self, obj):
        return return_parcel(obj)

    @admin.display(description="Dispute")
    def dispute_link(self, obj):
        dispute = Dispute.objects.filter(request=obj).first()
        if dispute is None:
            return EMPTY
        url = reverse("admin:returns_dispute_change", args=[dispute.pk])
        return format_html(
            '<a href="{}">Dispute {}</a> ({})',
            url,
            dispute.pk,
            dispute.get_status_display().lower(),
        )

    def evidence_view(self, request, request_id, evidence_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        evidence = ReturnEvidence.objects.filter(pk=evidence_id, request_id=request_id).first()
        if evidence is None:
            raise Http404("No such evidence.")
        return evidence_response(evidence)
