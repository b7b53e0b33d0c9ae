"""The Seller Center's Returns section (/seller/returns/): the seller's return and refund requests
by what they wait for, a request's page with what can be done now, and the actions.

Every view is wrapped in sellers.access.seller_center_view(Section.RETURNS): a role without the
returns section, or a shop not approved yet, answers 404, and `request.seller` is the shop whose
requests are read (returns.selectors filters by it), so another seller's request or file answers
404 on every URL. Each action is a POST that calls one service with `seller=request.seller,
actor=request.user`, says what happened in a message and redirects to the request's page; a
refusal is a message and changes nothing.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from marketplace.errors import DomainError
from marketplace.money import Money
from marketplace.uploads import private_document_response
from returns.forms.seller_center import (
    NOT_RESELLABLE_PREFIX,
    ConfirmReceiptForm,
    EscalateForm,
    OfferForm,
    ProblemForm,
    RejectForm,
    StatementForm,
    form_error_text,
)
from returns.models import (
    ESCALATABLE_STATUSES,
    DisputeStatus,
    Party,
    RequestKind,
    ReturnRequest,
    ReturnStatus,
)
from returns.selectors import (
    SELLER_RETURN_TABS,
    SELLER_RETURN_TABS_BY_KEY,
    clean_search,
    request_deadline,
    seller_return_evidence_get,
    seller_return_get,
    seller_return_head,
    seller_return_requests,
    seller_return_tab_counts,
)
from returns.services.common import ReturnNotFound, when_text
from returns.services.disputes import dispute_add_statement, return_escalate
from returns.services.evidence import MAX_FILES
from returns.services.requests import (
    request_replaced_by,
    return_approve,
    return_offer_partial,
    return_reject,
)
from returns.services.shipping import return_confirm_receipt, return_report_problem
from sellers.access import seller_center_view
from sellers.roles import Section

PAGE_SIZE = 25


# --- The list ----------------------------------------------------------------------------------


@seller_center_view(Section.RETURNS, require_approved=True)
@require_safe
def request_list(request):
    seller = request.seller
    tab = SELLER_RETURN_TABS_BY_KEY.get(request.GET.get("status", ""), SELLER_RETURN_TABS[0])
    search = clean_search(request.GET.get("q", ""))
    counts = seller_return_tab_counts(seller=seller, search=search)
    tabs = [
        {
            "tab": each,
            "count": counts[each.key],
            "active": each.key == tab.key,
            "query_string": _query_string(status=each.key, q=search),
        }
        for each in SELLER_RETURN_TABS
    ]
    rows = seller_return_requests(seller=seller, tab=tab.key, search=search)
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page_obj.object_list:
        _describe(item)
    context = {
        "seller": seller,
        "tabs": tabs,
        "tab": tab,
        "query": search,
        "page_obj": page_obj,
        "requests": page_obj.object_list,
        "query_string": _query_string(status=tab.key, q=search),
        "any_requests": counts["all"] > 0,
    }
    return render(request, "returns/seller_center/request_list.html", context)


def _query_string(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value})


def _describe(item: ReturnRequest) -> ReturnRequest:
    """What a row and the page show beside the columns: the amount, the first item's title and
    how many more, and the deadline that applies now (no query: the lines are prefetched)."""
    lines = list(item.lines.all())
    item.amount = Money(item.requested_amount_minor, item.currency)
    item.first_title = lines[0].order_line.product_title if lines else ""
    item.more_lines = max(len(lines) - 1, 0)
    item.unit_count = sum(line.quantity for line in lines)
    item.deadline = request_deadline(item)
    return item


# --- A request's page --------------------------------------------------------------------------


def _actions(item: ReturnRequest, dispute, now, *, replaced_by) -> set[str]:
    """What the seller may do now; the services refuse anything else with a message anyway."""
    status = item.status
    actions = set()
    if status == ReturnStatus.REQUESTED:
        actions |= {"approve", "reject", "offer"}
    if status == ReturnStatus.BUYER_SHIPPED:
        actions.add("confirm_receipt")
        if item.return_delivered_at and (
            item.confirm_receipt_by is None or now <= item.confirm_receipt_by
        ):
            actions.add("report_problem")
    if (
        status in ESCALATABLE_STATUSES
        and replaced_by is None
        and (item.escalate_by is None or now <= item.escalate_by)
    ):
        actions.add("escalate")
    if status == ReturnStatus.IN_DISPUTE and dispute and dispute.status == DisputeStatus.OPEN:
        actions.add("statement")
    return actions


def _dispute_of(item: ReturnRequest):
    try:
        return item.dispute
    except ReturnRequest.dispute.RelatedObjectDoesNotExist:
        return None


@seller_center_view(Section.RETURNS, require_approved=True)
@require_safe
def request_detail(request, request_id: int):
    item = _describe(seller_return_get(seller=request.seller, request_id=request_id))
    now = timezone.now()
    dispute = _dispute_of(item)
    replaced_by = request_replaced_by(item) if item.status in ESCALATABLE_STATUSES else None
    evidence = list(item.evidence.all())
    lines = list(item.lines.all())
    context = {
        "seller": request.seller,
        "return_request": item,
        "order": item.order,
        "lines": lines,
        "dispute": dispute,
        "buyer_evidence": [each for each in evidence if each.party == Party.BUYER],
        "seller_evidence": [each for each in evidence if each.party == Party.SELLER],
        "staff_evidence": [each for each in evidence if each.party == Party.STAFF],
        "shipment": item.return_shipment,
        "refund": item.refund,
        "actions": _actions(item, dispute, now, replaced_by=replaced_by),
        "replaced_by": replaced_by,
        "is_refund_only": item.kind == RequestKind.REFUND_ONLY,
        "not_resellable_prefix": NOT_RESELLABLE_PREFIX,
        "max_files": MAX_FILES,
    }
    return render(request, "returns/seller_center/request_detail.html", context)


# --- The actions -------------------------------------------------------------------------------


def _own_request_or_404(request, request_id: int) -> ReturnRequest:
    return seller_return_head(seller=request.seller, request_id=request_id)


def _back(request_id: int):
    return redirect("seller_returns:detail", request_id=request_id)


def _run(request, request_id: int, step, success) -> None:
    """Call `step()` (one service); on success say `success(result)`, on a refusal its message.
    A request that vanished from this shop meanwhile answers 404."""
    try:
        result = step()
    except ReturnNotFound:
        raise Http404("No such request.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success(result))


def _approved(result: ReturnRequest) -> str:
    if result.status == ReturnStatus.REFUNDED:
        refunded = Money(
            result.refund.amount_minor if result.refund else result.requested_amount_minor,
            result.currency,
        )
        return f"Request {result.number} approved: the buyer is refunded {refunded}."
    return (
        f"Request {result.number} approved: the buyer has until {when_text(result.ship_back_by)} to "
        "send the item back. Confirm receipt when it arrives."
    )


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def approve(request, request_id: int):
    _own_request_or_404(request, request_id)
    _run(
        request,
        request_id,
        lambda: return_approve(request_id=request_id, seller=request.seller, actor=request.user),
        _approved,
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def reject(request, request_id: int):
    _own_request_or_404(request, request_id)
    form = RejectForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    _run(
        request,
        request_id,
        lambda: return_reject(
            request_id=request_id,
            seller=request.seller,
            actor=request.user,
            reason_text=form.cleaned_data["reason"],
            evidence=form.cleaned_data["evidence"],
        ),
        lambda result: (
            f"Request {result.number} rejected: the buyer reads your reason. Either of you may "
            f"ask the marketplace to decide until {when_text(result.escalate_by)}."
        ),
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def offer(request, request_id: int):
    head = _own_request_or_404(request, request_id)
    form = OfferForm(request.POST, currency=head.currency)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    _run(
        request,
        request_id,
        lambda: return_offer_partial(
            request_id=request_id,
            seller=request.seller,
            actor=request.user,
            amount_minor=form.cleaned_data["amount"],
        ),
        lambda result: (
            f"You offered {Money(result.offer_amount_minor, result.currency)}; the buyer keeps "
            f"the item and has until {when_text(result.offer_expires_at)} to accept or decline."
        ),
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def confirm_receipt(request, request_id: int):
    item = seller_return_get(seller=request.seller, request_id=request_id)
    form = ConfirmReceiptForm(request.POST, lines=list(item.lines.all()))
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    not_resellable = form.not_resellable()

    def success(result: ReturnRequest) -> str:
        restocked = sum(line.quantity for line in form.lines) - sum(not_resellable.values())
        refunded = Money(
            result.refund.amount_minor if result.refund else result.requested_amount_minor,
            result.currency,
        )
        return f"Receipt confirmed: the buyer is refunded {refunded}" + (
            f" and {restocked} unit{'s' if restocked != 1 else ''} went back in stock."
            if restocked > 0
            else "; nothing went back in stock."
        )

    _run(
        request,
        request_id,
        lambda: return_confirm_receipt(
            request_id=request_id,
            seller=request.seller,
            actor=request.user,
            not_resellable=not_resellable,
        ),
        success,
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def report_problem(request, request_id: int):
    _own_request_or_404(request, request_id)
    form = ProblemForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    _run(
        request,
        request_id,
        lambda: return_report_problem(
            request_id=request_id,
            seller=request.seller,
            actor=request.user,
            statement=form.cleaned_data["statement"],
            evidence=form.cleaned_data["evidence"],
        ),
        lambda result: (
            f"Problem reported: request {result.number} is with the marketplace, which decides "
            "and tells you both. No refund runs meanwhile."
        ),
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def escalate(request, request_id: int):
    _own_request_or_404(request, request_id)
    form = EscalateForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    _run(
        request,
        request_id,
        lambda: return_escalate(
            request_id=request_id,
            party=Party.SELLER,
            user=request.user,
            seller=request.seller,
            statement=form.cleaned_data["statement"],
            evidence=form.cleaned_data["evidence"],
        ),
        lambda result: (
            f"Request {result.number} is with the marketplace, which decides and tells you both."
        ),
    )
    return _back(request_id)


@seller_center_view(Section.RETURNS, require_approved=True)
@require_POST
def statement(request, request_id: int):
    _own_request_or_404(request, request_id)
    form = StatementForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(request_id)
    _run(
        request,
        request_id,
        lambda: dispute_add_statement(
            request_id=request_id,
            party=Party.SELLER,
            user=request.user,
            seller=request.seller,
            statement=form.cleaned_data["statement"],
            evidence=form.cleaned_data["evidence"],
        ),
        lambda dispute: "Added to the dispute: the marketplace reads it before deciding.",
    )
    return _back(request_id)


# --- Evidence files ----------------------------------------------------------------------------


@seller_center_view(Section.RETURNS, require_approved=True)
@require_safe
def evidence_file(request, request_id: int, evidence_id: int):
    evidence = seller_return_evidence_get(
        seller=request.seller, request_id=request_id, evidence_id=evidence_id
    )
    return private_document_response(
        stored_name=evidence.file.name, filename=evidence.original_name
    )
