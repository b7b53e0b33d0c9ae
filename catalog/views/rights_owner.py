"""Intellectual-property complaints for rights owners (/ip/): file a complaint against a product
on sale, and follow one's own complaints.

A complainant's proof is never served by URL to them or anyone else here: only staff download it
(an admin URL, catalog/admin/complaints.py). A decided complaint's side for sellers is in
catalog/views/seller_center/ip_complaints.py.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from catalog.forms.ip import IPComplaintForm
from catalog.models import IPComplaint
from catalog.selectors import storefront_visible_products
from catalog.services import ip_complaints as ip_services
from marketplace.errors import DomainError

PAGE_SIZE = 25


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report(request, product_id: int):
    # Only what shoppers can see can be reported: a live product of an open shop.
    product = storefront_visible_products().select_related("seller").filter(pk=product_id).first()
    if product is None:
        raise Http404("No such product.")
    posted = request.method == "POST"
    form = IPComplaintForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = ip_services.ip_complaint_file(
                product_id=product.pk,
                complainant=request.user,
                right_type=data["right_type"],
                rights_owner=data["rights_owner"],
                registration_number=data["registration_number"],
                description=data["description"],
                proof_upload=data["proof"],
            )
        except ip_services.IPComplaintRefused as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"Your complaint is filed. Your reference is "
                f"{ip_services.ip_complaint_reference(complaint)}. The marketplace team reviews "
                "it and emails you the decision.",
            )
            return redirect("ip:my_complaints")
    return render(
        request,
        "catalog/ip/report.html",
        {"product": product, "form": form},
        status=400 if posted else 200,
    )


@login_required
@require_safe
def my_complaints(request):
    page_obj = Paginator(
        IPComplaint.objects.filter(complainant=request.user)
        .select_related("product", "product__seller")
        .order_by("-created_at", "-id"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(request, "catalog/ip/my_complaints.html", {"page_obj": page_obj})
