"""Seller Center: bulk CSV upload of products (/seller/products/bulk/).

Every page is for an approved shop's product staff, and every upload is read through
`_upload_or_404`, which filters by the seller: another shop's upload answers 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from catalog.forms.bulk import BulkUploadForm
from catalog.models import BulkUpload
from catalog.selectors import bulk_uploads_with_rejected_count
from catalog.services import bulk_upload as bulk_upload_services
from marketplace.errors import DomainError
from sellers.access import seller_center_view
from sellers.roles import Section

PAGE_SIZE = 25
# While an import runs, the progress partial asks again this often.
POLL_SECONDS = 2


def _upload_or_404(request, bulk_upload_id: int) -> BulkUpload:
    bulk_upload = BulkUpload.objects.filter(seller=request.seller, pk=bulk_upload_id).first()
    if bulk_upload is None:
        raise Http404("No such upload.")
    return bulk_upload


def _csv_response(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@seller_center_view(Section.PRODUCTS, require_approved=True)
@require_safe
def upload_list(request):
    page_obj = Paginator(
        bulk_uploads_with_rejected_count(BulkUpload.objects.filter(seller=request.seller)).order_by(
            "-created_at", "-id"
        ),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(request, "catalog/seller_center/bulk/list.html", {"page_obj": page_obj})


@seller_center_view(Section.PRODUCTS, require_approved=True)
@require_safe
def template(request):
    return _csv_response(bulk_upload_services.bulk_template_csv(), "products-template.csv")


@seller_center_view(Section.PRODUCTS, require_approved=True)
@require_http_methods(["GET", "HEAD", "POST"])
def upload(request):
    posted = request.method == "POST"
    form = BulkUploadForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            bulk_upload = bulk_upload_services.bulk_upload_create(
                seller=request.seller, upload=form.cleaned_data["file"], actor=request.user
            )
        except bulk_upload_services.InvalidBulkFile as error:
            form.add_error("file", error.message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                f"{bulk_upload.original_name} is uploaded: {bulk_upload.total_rows:,} "
                f"row{'s' if bulk_upload.total_rows != 1 else ''} queued for import. This page "
                "shows the progress; we also email the owner when it is done.",
            )
            return redirect("seller_bulk:detail", bulk_upload.pk)
    context = {
        "form": form,
        "columns": bulk_upload_services.COLUMNS,
        "max_rows": f"{bulk_upload_services.MAX_ROWS:,}",
        "max_megabytes": bulk_upload_services.MAX_FILE_BYTES // 1_048_576,
    }
    return render(
        request,
        "catalog/seller_center/bulk/upload.html",
        context,
        status=400 if posted else 200,
    )


@seller_center_view(Section.PRODUCTS, require_approved=True)
@require_safe
def detail(request, bulk_upload_id: int):
    bulk_upload = _upload_or_404(request, bulk_upload_id)
    rejected_page = Paginator(bulk_upload.rejected_rows, PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "bulk_upload": bulk_upload,
        "rejected_page": rejected_page,
        "is_working": bulk_upload.status in (BulkUpload.Status.QUEUED, BulkUpload.Status.RUNNING),
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx:
        # The polling request: only the progress block, which stops polling once finished.
        return render(request, "catalog/seller_center/bulk/_progress.html", context)
    return render(request, "catalog/seller_center/bulk/detail.html", context)


@seller_center_view(Section.PRODUCTS, require_approved=True)
@require_safe
def report(request, bulk_upload_id: int):
    bulk_upload = _upload_or_404(request, bulk_upload_id)
    return _csv_response(
        bulk_upload_services.bulk_rejected_rows_csv(bulk_upload=bulk_upload),
        f"upload-{bulk_upload.pk}-rejected-rows.csv",
    )
