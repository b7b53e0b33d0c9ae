"""Seller Center: intellectual-property complaints against the shop's products
(/seller/ip-complaints/): decided complaints, and the one appeal of an upheld one.

Submitted complaints stay hidden from the seller until staff decide (notice and takedown). The
appeal evidence is downloadable by the shop's product staff here and by staff in the admin;
everything else about a document answers 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from catalog.forms.ip import IPAppealForm
from catalog.models import IPComplaint
from catalog.services import ip_complaints as ip_services
from marketplace.errors import DomainError
from marketplace.uploads import private_document_response
from sellers.access import seller_center_view
from sellers.roles import Section, can_open
from sellers.selectors import seller_membership_for_user

PAGE_SIZE = 25
DECIDED = (IPComplaint.Status.UPHELD, IPComplaint.Status.DISMISSED)


def _may_appeal(request) -> bool:
    return request.seller_member.role in ip_services.ROLES_THAT_APPEAL


def _decided_complaint_or_404(request, complaint_id: int) -> IPComplaint:
    complaint = (
        IPComplaint.objects.select_related("product")
        .filter(product__seller=request.seller, pk=complaint_id, status__in=DECIDED)
        .first()
    )
    if complaint is None:
        raise Http404("No such complaint.")
    return complaint


@seller_center_view(Section.PRODUCTS)
@require_safe
def seller_complaints(request):
    # Submitted complaints stay hidden from the seller until staff decide (notice and takedown).
    page_obj = Paginator(
        IPComplaint.objects.filter(product__seller=request.seller, status__in=DECIDED)
        .select_related("product")
        .order_by("-decided_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    may_appeal = _may_appeal(request)
    for complaint in page_obj.object_list:
        complaint.appeal_form = (
            IPAppealForm(complaint_id=complaint.pk)
            if may_appeal
            and complaint.status == IPComplaint.Status.UPHELD
            and complaint.appeal_status == IPComplaint.AppealStatus.NONE
            else None
        )
    return render(
        request,
        "catalog/seller_center/ip_complaints.html",
        {"page_obj": page_obj, "may_appeal": may_appeal},
    )


@seller_center_view(Section.PRODUCTS)
@require_http_methods(["GET", "HEAD", "POST"])
def seller_appeal(request, complaint_id: int):
    if not _may_appeal(request):
        # Only the owner and admins speak for the shop; to others the door does not exist.
        raise Http404("No such page in your Seller Center.")
    complaint = _decided_complaint_or_404(request, complaint_id)
    posted = request.method == "POST"
    form = IPAppealForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            ip_services.ip_complaint_appeal(
                complaint_id=complaint.pk,
                seller=request.seller,
                actor=request.user,
                text=form.cleaned_data["text"],
                evidence_upload=form.cleaned_data["evidence"],
            )
        except ip_services.IPComplaintNotFound:
            raise Http404("No such complaint.") from None
        except ip_services.IPComplaintRefused as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Your appeal on {complaint.reference} is submitted. The marketplace team "
                "reviews it and emails the owner the decision.",
            )
            return redirect("seller_ip_complaints:list")
    return render(
        request,
        "catalog/seller_center/ip_appeal.html",
        {"complaint": complaint, "form": form},
        status=400 if posted else 200,
    )


@require_safe
def seller_appeal_evidence(request, complaint_id: int):
    # Not @seller_center_view: that sends people without a shop to the application form, and a
    # document must simply not exist (404) for anyone but the shop's product staff.
    member = seller_membership_for_user(user=request.user)
    if member is None or not can_open(member.role, Section.PRODUCTS):
        raise Http404("No such document.")
    complaint = IPComplaint.objects.filter(
        product__seller=member.seller, pk=complaint_id, status__in=DECIDED
    ).first()
    if complaint is None or not complaint.appeal_evidence:
        raise Http404("No such document.")
    return private_document_response(
        stored_name=complaint.appeal_evidence.name, filename=complaint.appeal_evidence_name
    )
