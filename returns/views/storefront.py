"""The shopper's return pages (at /returns/): the request form for one order, the list of the
buyer's requests, one request's page with the actions that apply to it, and its evidence files.

Thin views: each parses input and calls one service of returns.services; a refusal is the
service's message (django messages) and nothing changes. Another buyer's order, request or file
answers 404. Every action is a POST answered with a redirect to the request's page (PRG); the
services answer a repeated action with the request as it stands, so a double click is harmless.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from marketplace.errors import DomainError
from marketplace.money import Money
from marketplace.uploads import private_file_response, private_storage
from orders.carriers import carrier_get
from orders.models import Order, RefundStatus
from returns.forms.storefront import (
    EscalateForm,
    RequestForm,
    ShipBackForm,
    StatementForm,
    form_error_text,
)
from returns.models import (
    ESCALATABLE_STATUSES,
    DisputeStatus,
    Party,
    ReturnEvidence,
    ReturnRequest,
    ReturnRequestLine,
    ReturnStatus,
)
from returns.services.common import ReturnNotFound, when_text
from returns.services.disputes import dispute_add_statement, return_escalate
from returns.services.requests import (
    WITHDRAWABLE,
    LineAlreadyRequested,
    order_accepts_requests,
    order_returnable_lines,
    request_replaced_by,
    return_offer_accept,
    return_offer_decline,
    return_request_create,
    return_window_ends_at,
    return_withdraw,
)
from returns.services.shipping import return_ship_back
from sellers.models import ShopAddress

PAGE_SIZE = 20


def _own_request(request, request_id: int) -> ReturnRequest:
    """The signed-in buyer's request; anyone else's (or none) answers 404."""
    return get_object_or_404(
        ReturnRequest.objects.select_related("order", "seller"), pk=request_id, buyer=request.user
    )


def _back(return_request: ReturnRequest):
    return redirect("returns:detail", request_id=return_request.pk)


# --- The request form ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request, order_id: int):
    order = get_object_or_404(
        Order.objects.select_related("seller"), pk=order_id, buyer=request.user
    )
    context = {"order": order, "window_ends_at": return_window_ends_at(order)}
    if not order_accepts_requests(order):
        # Not delivered yet, or the window has ended: the page says which, with no form.
        context["accepts"] = False
        return render(request, "returns/request_new.html", context)
    returnable = order_returnable_lines(order)
    form = RequestForm(request.POST or None, request.FILES or None, returnable=returnable)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                created = return_request_create(
                    order_id=order.pk,
                    buyer=request.user,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    description=form.cleaned_data["description"],
                    quantities=form.quantities(),
                    photos=form.cleaned_data["photos"],
                )
            except LineAlreadyRequested as error:
                if error.request_id is None:
                    messages.error(request, error.message)
                else:
                    messages.info(request, f"{error.message} Here it is.")
                    return redirect("returns:detail", request_id=error.request_id)
            except ReturnNotFound:
                raise Http404("No such order.") from None
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    f"Your request {created.number} was sent to {order.seller.shop_name}. They "
                    f"answer by {when_text(created.respond_by)}; without an answer by then it is "
                    "approved.",
                )
                return redirect("returns:detail", request_id=created.pk)
        else:
            messages.error(request, form_error_text(form))
        if request.FILES:
            messages.info(request, "Attach your photos again: nothing was sent.")
    context.update(
        accepts=True,
        form=form,
        can_ask=any(item.units for item in returnable),
    )
    return render(request, "returns/request_new.html", context, status=status)


# --- The buyer's requests ------------------------------------------------------------------------


@login_required
@require_safe
def request_list(request):
    """The buyer's requests, newest first, 20 a page, in the same queries however many."""
    rows = (
        ReturnRequest.objects.filter(buyer=request.user)
        .select_related("order", "seller")
        .prefetch_related(
            Prefetch("lines", queryset=ReturnRequestLine.objects.select_related("order_line"))
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "returns/request_list.html", {"page_obj": page, "requests": page.object_list}
    )


def _return_address(seller_id: int) -> ShopAddress | None:
    """Where the item goes back: the shop's return address, else its ship-from address."""
    addresses = {a.kind: a for a in ShopAddress.objects.filter(seller_id=seller_id)}
    return addresses.get(ShopAddress.Kind.RETURN) or addresses.get(ShopAddress.Kind.SHIP_FROM)


def _deadline(return_request: ReturnRequest) -> dict | None:
    """The one deadline that applies now, with what happens at it, in the buyer's words."""
    status = return_request.status
    shop = return_request.seller.shop_name
    if status == ReturnStatus.REQUESTED:
        title, at = f"{shop} answers by", return_request.respond_by
        explain = "Without an answer by then, the request is approved."
    elif status == ReturnStatus.PARTIAL_REFUND_OFFERED:
        title, at = "Answer the offer by", return_request.offer_expires_at
        explain = "Without an answer by then, the request closes and you keep the item."
    elif status == ReturnStatus.AWAITING_BUYER_SHIPMENT:
        title, at = "Send it back by", return_request.ship_back_by
        explain = "Enter the tracking number below by then; after that the request closes."
    elif status in ESCALATABLE_STATUSES:
        title, at = "Ask the marketplace by", return_request.escalate_by
        explain = "If you disagree with the shop, ask the marketplace to decide before then."
    elif status == ReturnStatus.BUYER_SHIPPED:
        title, at = f"{shop} confirms receipt by", return_request.confirm_receipt_by
        explain = (
            f"{shop} checks the parcel once it arrives; without an answer by then, the refund "
            "goes out automatically."
        )
    else:
        return None
    if at is None:
        return None
    return {"title": title, "at": at, "explain": explain}


@login_required
@require_safe
def request_detail(request, request_id: int):
    return_request = get_object_or_404(
        ReturnRequest.objects.select_related(
            "order", "seller", "refund", "return_shipment", "dispute"
        ).prefetch_related(
            Prefetch("lines", queryset=ReturnRequestLine.objects.select_related("order_line")),
            "status_events",
            "evidence",
        ),
        pk=request_id,
        buyer=request.user,
    )
    status = return_request.status
    now = timezone.now()
    dispute = getattr(return_request, "dispute", None)  # select_related: None when there is none
    refund = return_request.refund
    replaced_by = request_replaced_by(return_request) if status in ESCALATABLE_STATUSES else None
    can_escalate = (
        status in ESCALATABLE_STATUSES
        and replaced_by is None
        and (return_request.escalate_by is None or now <= return_request.escalate_by)
    )
    awaiting_shipment = status == ReturnStatus.AWAITING_BUYER_SHIPMENT
    shipment = return_request.return_shipment
    dispute_open = (
        status == ReturnStatus.IN_DISPUTE
        and dispute is not None
        and dispute.status == DisputeStatus.OPEN
    )
    evidence = list(return_request.evidence.all())
    context = {
        "return_request": return_request,
        "order": return_request.order,
        "requested": Money(return_request.requested_amount_minor, return_request.currency),
        "offer": Money(return_request.offer_amount_minor, return_request.currency)
        if return_request.offer_amount_minor
        else None,
        "deadline": _deadline(return_request),
        "refund": refund,
        "refund_label": (
            RefundStatus.PENDING.label
            if refund and refund.status == RefundStatus.FAILED
            else (refund.get_status_display() if refund else "")
        ),
        "refund_amount": Money(refund.amount_minor, refund.currency) if refund else None,
        "refund_items": Money(refund.amount_minor - refund.shipping_minor, refund.currency)
        if refund
        else None,
        "refund_shipping": Money(refund.shipping_minor, refund.currency) if refund else None,
        "dispute": dispute,
        "dispute_open": dispute_open,
        "buyer_evidence": [item for item in evidence if item.party == Party.BUYER],
        "other_evidence": [item for item in evidence if item.party != Party.BUYER],
        "can_withdraw": status in WITHDRAWABLE,
        "can_answer_offer": status == ReturnStatus.PARTIAL_REFUND_OFFERED,
        "can_ship_back": awaiting_shipment,
        "can_escalate": can_escalate,
        "replaced_by": replaced_by,
        "return_address": _return_address(return_request.seller_id)
        if status in (ReturnStatus.AWAITING_BUYER_SHIPMENT, ReturnStatus.BUYER_SHIPPED)
        else None,
        "shipment": shipment,
        "shipment_carrier": carrier_get(shipment.carrier).name
        if shipment and carrier_get(shipment.carrier)
        else "",
        "ship_form": ShipBackForm() if awaiting_shipment else None,
        "escalate_form": EscalateForm() if can_escalate else None,
        "statement_form": StatementForm() if dispute_open else None,
    }
    return render(request, "returns/request_detail.html", context)


# --- Actions (POST, then back to the request's page) --------------------------------------------


def _run(request, action, success: str | None = None):
    """Call one service; its refusal is a message, another buyer's request a 404."""
    try:
        result = action()
    except ReturnNotFound:
        raise Http404("No such request.") from None
    except DomainError as error:
        messages.error(request, error.message)
        return None
    if success:
        messages.success(request, success)
    return result


@login_required
@require_POST
def request_withdraw(request, request_id: int):
    return_request = _own_request(request, request_id)
    _run(
        request,
        lambda: return_withdraw(request_id=return_request.pk, buyer=request.user),
        "Your request is withdrawn.",
    )
    return _back(return_request)


@login_required
@require_POST
def offer_accept(request, request_id: int):
    return_request = _own_request(request, request_id)
    result = _run(
        request, lambda: return_offer_accept(request_id=return_request.pk, buyer=request.user)
    )
    if result is not None:
        amount = Money(result.offer_amount_minor or 0, result.currency)
        messages.success(
            request, f"You accepted the offer: {amount} is on its way back to your card."
        )
    return _back(return_request)


@login_required
@require_POST
def offer_decline(request, request_id: int):
    return_request = _own_request(request, request_id)
    result = _run(
        request, lambda: return_offer_decline(request_id=return_request.pk, buyer=request.user)
    )
    if result is not None:
        messages.success(
            request,
            "You declined the offer. If you cannot agree with the shop, ask the marketplace to "
            f"decide by {when_text(result.escalate_by)}.",
        )
    return _back(return_request)


@login_required
@require_POST
def ship_back(request, request_id: int):
    return_request = _own_request(request, request_id)
    form = ShipBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(return_request)
    _run(
        request,
        lambda: return_ship_back(
            request_id=return_request.pk,
            buyer=request.user,
            carrier=form.cleaned_data["carrier"],
            tracking_number=form.cleaned_data["tracking_number"],
        ),
        "Thanks: the shop can follow your parcel. The refund follows once they receive it.",
    )
    return _back(return_request)


@login_required
@require_POST
def escalate(request, request_id: int):
    return_request = _own_request(request, request_id)
    form = EscalateForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(return_request)
    _run(
        request,
        lambda: return_escalate(
            request_id=return_request.pk,
            party=Party.BUYER,
            user=request.user,
            statement=form.cleaned_data["statement"],
            evidence=form.cleaned_data["photos"],
        ),
        "The marketplace will look at your request and decide; we will email you both.",
    )
    return _back(return_request)


@login_required
@require_POST
def statement(request, request_id: int):
    return_request = _own_request(request, request_id)
    form = StatementForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return _back(return_request)
    _run(
        request,
        lambda: dispute_add_statement(
            request_id=return_request.pk,
            party=Party.BUYER,
            user=request.user,
            statement=form.cleaned_data["statement"],
            evidence=form.cleaned_data["photos"],
        ),
        "Your statement is saved; the marketplace reads it before deciding.",
    )
    return _back(return_request)


# --- Evidence files ------------------------------------------------------------------------------


@login_required
@require_safe
def evidence_file(request, request_id: int, evidence_id: int):
    """One photo or document of the request (either side's), only for the request's buyer."""
    evidence = ReturnEvidence.objects.filter(
        pk=evidence_id, request_id=request_id, request__buyer=request.user
    ).first()
    if evidence is None or not evidence.file:
        raise Http404("No such file.")
    try:
        handle = private_storage.open(evidence.file.name, "rb")
    except FileNotFoundError:
        raise Http404("The file is missing.") from None
    return private_file_response(
        handle, filename=evidence.original_name, content_type=evidence.content_type
    )
