"""Seller Center: the seller application (apply, documents, submit, status).

Anyone with the settings section may look at the application; only its owner may change or submit
it, and everyone else gets a 404 for those pages, as for another seller's.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from marketplace.errors import DomainError
from marketplace.uploads import private_file_response
from sellers.access import seller_center_view, user_may_view_every_kyc_document
from sellers.forms.application import KycDocumentForm, SellerApplicationForm
from sellers.models import KycDocument, Seller, SellerRole, SellerStatus
from sellers.roles import Section, can_open
from sellers.selectors import seller_membership_for_user, seller_policies_outstanding
from sellers.services import application as services

# The seller-facing policies page belongs to the Seller Center set-up; linked by path so this page
# does not depend on its URL name.
POLICIES_PATH = "/seller/policies/"


def _require_owner(request) -> None:
    if request.seller_member.role != SellerRole.OWNER:
        raise Http404("Only the shop's owner can change the application.")


def _add_service_errors(form, error: DomainError) -> None:
    """Put a service's field errors next to the fields, anything else above the form."""
    field_errors = getattr(error, "field_errors", None)
    if not field_errors:
        form.add_error(None, error.message)
        return
    for name, errors in field_errors.items():
        form.add_error(name if name in form.fields else None, errors)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def apply(request):
    """Start an application (no seller yet) or edit one (the owner, while it is editable)."""
    member = seller_membership_for_user(user=request.user)
    seller = None
    if member is not None:
        if member.role == SellerRole.OWNER and member.seller.application_is_editable:
            seller = member.seller
        elif can_open(member.role, Section.SETTINGS):
            return redirect("seller_center:application")
        else:
            # Staff who cannot see the application would only meet a 404 there.
            return redirect("seller_center:dashboard")
    else:
        closed = Seller.objects.filter(owner=request.user).first()
        if closed is not None:
            # A closed shop's owner cannot open a second one (one shop per person).
            return render(request, "sellers/application/closed.html", {"seller": closed})

    form = SellerApplicationForm(
        request.POST if request.method == "POST" else None, instance=seller
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in services.APPLICATION_FIELDS}
        try:
            if seller is None:
                seller = services.seller_application_start(owner=request.user, **fields)
            else:
                services.seller_application_update(seller=seller, actor=request.user, **fields)
        except DomainError as error:
            _add_service_errors(form, error)
        else:
            if member is None:
                messages.success(
                    request,
                    f"Your application for {seller.shop_name} is saved as a draft. Next, upload "
                    "your documents and accept the policies, then submit it.",
                )
            else:
                messages.success(request, "Your application details are saved.")
            return redirect("seller_center:application")
    return render(
        request,
        "sellers/application/apply.html",
        {"form": form, "seller": seller, "is_new": seller is None},
        # Reached by POST only when the form has errors (success redirects).
        status=400 if request.method == "POST" else 200,
    )


def _status_page(request, *, document_form=None, status=200):
    seller = request.seller
    is_owner = request.seller_member.role == SellerRole.OWNER
    checklist = services.seller_application_checklist(seller=seller)
    context = {
        "seller": seller,
        "is_owner": is_owner,
        "can_edit": is_owner and seller.application_is_editable,
        "events": seller.status_events.select_related("actor").order_by("created_at", "id"),
        "documents": seller.kyc_documents.select_related("uploaded_by"),
        "document_form": document_form or KycDocumentForm(),
        "checklist": checklist,
        "is_complete": all(item.done for item in checklist),
        "outstanding_policies": seller_policies_outstanding(seller=seller),
        "policies_path": POLICIES_PATH,
        "shows_staff_message": seller.status_message
        and seller.status
        in {SellerStatus.NEEDS_INFO, SellerStatus.REJECTED, SellerStatus.SUSPENDED},
    }
    return render(request, "sellers/application/status.html", context, status=status)


@seller_center_view(Section.SETTINGS)
@require_safe
def application(request):
    return _status_page(request)


@seller_center_view(Section.SETTINGS)
@require_POST
def application_submit(request):
    _require_owner(request)
    try:
        services.seller_application_submit(seller=request.seller, actor=request.user)
    except services.ApplicationIncomplete as error:
        messages.error(
            request,
            "Your application cannot be submitted yet. Still to do: " + " ".join(error.missing),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            "Your application is submitted. The marketplace team will review it and email you "
            "with their decision.",
        )
    return redirect("seller_center:application")


@seller_center_view(Section.SETTINGS)
@require_POST
def kyc_document_upload(request):
    _require_owner(request)
    form = KycDocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.kyc_document_add(
                seller=request.seller,
                kind=form.cleaned_data["kind"],
                upload=form.cleaned_data["file"],
                uploaded_by=request.user,
            )
        except services.DocumentRejected as error:
            form.add_error("file", error.message)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("seller_center:application")
        else:
            messages.success(
                request, f"{document.get_kind_display()} uploaded ({document.original_name})."
            )
            return redirect("seller_center:application")
    messages.error(request, "The document was not uploaded. See the message next to the file.")
    return _status_page(request, document_form=form, status=400)


@seller_center_view(Section.SETTINGS)
@require_POST
def kyc_document_remove(request, document_id: int):
    _require_owner(request)
    try:
        services.kyc_document_remove(
            seller=request.seller, document_id=document_id, actor=request.user
        )
    except services.DocumentNotFound:
        raise Http404("No such document.") from None
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The document is removed from your application.")
    return redirect("seller_center:application")


@login_required
@require_safe
def kyc_document_download(request, document_id: int):
    """Stream a KYC document to the seller's owner, or to platform staff who hold the KYC
    permission. The shop's own staff (admins included) see that documents exist but cannot open
    them: they are the owner's identity papers, and the page promises "only you and the
    marketplace team"."""
    documents = KycDocument.objects.select_related("seller")
    if not user_may_view_every_kyc_document(request.user):
        member = seller_membership_for_user(user=request.user)
        if member is None or member.role != SellerRole.OWNER:
            raise Http404("No such document.")
        documents = documents.filter(seller=member.seller)
    document = documents.filter(pk=document_id).first()
    if document is None:
        raise Http404("No such document.")
    return kyc_file_response(document)


def kyc_file_response(document: KycDocument) -> FileResponse:
    """The document as a download: never rendered inline, never sniffed, never cached."""
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this document is missing.") from None
    return private_file_response(
        handle, filename=document.original_name, content_type=document.content_type
    )
