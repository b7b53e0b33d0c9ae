"""Admin: seller applications, review actions, KYC documents, status history.

Staff review applications here. A seller's status is read-only in the form: it changes only
through the decision buttons (and the "Approve selected" action), each of which calls one service
in sellers/services/application.py. KYC files are streamed by a staff-only admin view, never
served by URL.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from marketplace.errors import DomainError
from sellers.access import user_may_view_every_kyc_document
from sellers.forms.application import SellerDecisionForm
from sellers.models import (
    KycDocument,
    Seller,
    SellerPolicyAcceptance,
    SellerStatus,
    SellerStatusEvent,
)
from sellers.services import application as services
from sellers.services import setup as setup_services
from sellers.views.application import kyc_file_response


@dataclass(frozen=True)
class Decision:
    """One staff decision button: its label, whether a message goes with it, and the service."""

    name: str
    label: str
    button_class: str  # colours the button on the change page
    message: str  # "required", "optional" or "" (no message)
    message_label: str
    explanation: str

    def take(self, *, seller_id: int, actor, message: str) -> Seller:
        if self.name == "approve":
            return services.seller_approve(seller_id=seller_id, actor=actor)
        if self.name == "reject":
            return services.seller_reject(seller_id=seller_id, actor=actor, reason=message)
        if self.name == "request_info":
            return services.seller_request_info(seller_id=seller_id, actor=actor, message=message)
        if self.name == "suspend":
            return services.seller_suspend(seller_id=seller_id, actor=actor, reason=message)
        if self.name == "reinstate":
            return services.seller_reinstate(seller_id=seller_id, actor=actor)
        return services.seller_close(seller_id=seller_id, actor=actor, reason=message)


DECISIONS = {
    decision.name: decision
    for decision in (
        Decision(
            "approve",
            "Approve",
            "decision-approve",
            "",
            "",
            "The shop opens and the owner is emailed.",
        ),
        Decision(
            "request_info",
            "Request more information",
            "decision-info",
            "required",
            "What the seller must add or change",
            "The application goes back to the owner, who can edit it and submit it again.",
        ),
        Decision(
            "reject",
            "Reject",
            "decision-danger",
            "required",
            "Reason for rejecting",
            "The application is refused for good. The owner is emailed the reason.",
        ),
        Decision(
            "suspend",
            "Suspend",
            "decision-danger",
            "required",
            "Reason for suspending",
            "The shop goes offline until it is reinstated. The owner is emailed the reason.",
        ),
        Decision(
            "reinstate",
            "Reinstate",
            "decision-approve",
            "",
            "",
            "The suspension is lifted and the shop opens again. The owner is emailed.",
        ),
        Decision(
            "close",
            "Close",
            "decision-danger",
            "optional",
            "Reason for closing (optional)",
            "The seller account is closed for good. This cannot be undone.",
        ),
    )
}


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class KycDocumentInline(ReadOnlyInline):
    model = KycDocument
    fields = (
        "kind",
        "download",
        "content_type",
        "size_bytes",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    )
    readonly_fields = fields
    verbose_name = "KYC document"

    def has_view_permission(self, request, obj=None):
        # Identity papers: only reviewers with the KYC permission see them, as in the download.
        return user_may_view_every_kyc_document(request.user)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="File")
    def download(self, document):
        url = reverse("admin:sellers_seller_kyc_download", args=[document.pk])
        return format_html('<a href="{}">{}</a> (download)', url, document.original_name)


class SellerStatusEventInline(ReadOnlyInline):
    model = SellerStatusEvent
    fields = ("created_at", "from_status", "to_status", "actor", "message")
    readonly_fields = fields
    verbose_name = "status change"
    verbose_name_plural = "status history"

    def get_queryset(self, request):
        # The row title (its __str__) names the seller, so the seller is joined too.
        return super().get_queryset(request).select_related("seller", "actor")


class SellerPolicyAcceptanceInline(ReadOnlyInline):
    model = SellerPolicyAcceptance
    fields = ("policy_version", "accepted_by", "accepted_at", "ip_address")
    readonly_fields = fields
    verbose_name = "policy acceptance"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("seller", "policy_version__document", "accepted_by")
        )


# The shop profile, which the seller edits in the Seller Center (sellers.services.setup).
PROFILE_FIELDS = (
    "description",
    "message_hours_start",
    "message_hours_end",
    "return_window_days",
)


class SellerAdminForm(forms.ModelForm):
    """Staff edit a shop profile under the seller's rules: a refusal shows on the field."""

    def clean(self):
        cleaned = super().clean()
        if self.errors or not set(self.changed_data) & set(PROFILE_FIELDS):
            return cleaned
        try:
            setup_services.seller_profile_check(
                message_hours_start=cleaned.get("message_hours_start"),
                message_hours_end=cleaned.get("message_hours_end"),
                return_window_days=cleaned.get("return_window_days"),
            )
        except setup_services.InvalidSetup as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(Seller)
class SellerAdmin(admin.ModelAdmin):
    form = SellerAdminForm
    list_display = ("shop_name", "owner", "kind", "status", "country", "submitted_at")
    list_filter = ("status", "kind", "country")
    list_select_related = ("owner",)
    search_fields = ("shop_name", "slug", "legal_name", "owner__email", "contact_email", "tax_id")
    date_hierarchy = "created_at"
    actions = ["approve_selected"]
    readonly_fields = (
        "owner",
        "status",
        "status_message",
        "created_at",
        "submitted_at",
        "approved_at",
    )
    fieldsets = (
        (
            "Status",
            {
                "fields": ("status", "status_message", "created_at", "submitted_at", "approved_at"),
                "description": "The status changes only through the decision buttons above.",
            },
        ),
        (
            "Shop",
            {"fields": ("owner", "kind", "shop_name", "slug", "main_category", "description")},
        ),
        (
            "Legal and contact",
            {"fields": ("legal_name", "tax_id", "contact_email", "contact_phone")},
        ),
        (
            "Address",
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    "city",
                    "region",
                    "postal_code",
                    "country",
                )
            },
        ),
        ("Messages", {"fields": ("message_hours_start", "message_hours_end")}),
        ("Returns", {"fields": ("return_window_days",)}),
    )
    inlines = [KycDocumentInline, SellerPolicyAcceptanceInline, SellerStatusEventInline]

    def has_add_permission(self, request):
        # A seller starts as an application by its owner, in the Seller Center.
        return False

    def has_delete_permission(self, request, obj=None):
        # Sellers are closed, never deleted: orders, ledger entries and audits point at them.
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        changed = list(form.changed_data)
        if set(changed) & set(PROFILE_FIELDS):
            # The shop profile goes through its service, as the seller's own edit does (its rules,
            # and the storefront's cached shop pages retired).
            setup_services.seller_profile_update(
                seller=obj,
                description=obj.description,
                message_hours_start=obj.message_hours_start,
                message_hours_end=obj.message_hours_end,
                return_window_days=obj.return_window_days,
            )
            changed = [name for name in changed if name not in PROFILE_FIELDS]
        # Only the fields staff edited: a whole-row save would write back the status read when
        # the request began and undo a transition committed meanwhile (an automatic suspension).
        if changed:
            obj.save(update_fields=changed)
        return None

    def get_urls(self):
        own = [
            path(
                "<path:object_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decision_view),
                name="sellers_seller_decide",
            ),
            path(
                "kyc/<int:document_id>/download/",
                self.admin_site.admin_view(self.kyc_download_view),
                name="sellers_seller_kyc_download",
            ),
        ]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "review_queue_count": Seller.objects.filter(status=SellerStatus.SUBMITTED).count(),
            "review_queue_query": f"?status__exact={SellerStatus.SUBMITTED}",
        }
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        seller = self.get_object(request, unquote(object_id))
        decisions = []
        if seller is not None and self.has_change_permission(request, seller):
            decisions = [
                (decision, reverse("admin:sellers_seller_decide", args=[seller.pk, decision.name]))
                for decision in DECISIONS.values()
                if services.seller_decision_is_legal(seller=seller, decision=decision.name)
            ]
        extra_context = {**(extra_context or {}), "decisions": decisions}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def decision_view(self, request, object_id, decision):
        spec = DECISIONS.get(decision)
        if spec is None:
            raise Http404("No such decision.")
        seller = self.get_object(request, unquote(object_id))
        if seller is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, seller):
            raise PermissionDenied
        change_url = reverse("admin:sellers_seller_change", args=[seller.pk])
        if not services.seller_decision_is_legal(seller=seller, decision=decision):
            messages.error(
                request,
                f"{seller} is {seller.get_status_display().lower()}: "
                f"“{spec.label}” is not possible now.",
            )
            return HttpResponseRedirect(change_url)

        form = SellerDecisionForm(
            request.POST if request.method == "POST" else None,
            message_required=spec.message == "required",
            message_label=spec.message_label or "Message",
        )
        if request.method == "POST" and form.is_valid():
            try:
                spec.take(
                    seller_id=seller.pk, actor=request.user, message=form.cleaned_data["message"]
                )
            except services.ReasonRequired as error:
                form.add_error("message", error.message)
            except DomainError as error:
                messages.error(request, f"{seller}: {error.message}")
                return HttpResponseRedirect(change_url)
            else:
                seller.refresh_from_db(fields=["status"])
                messages.success(
                    request,
                    f"{seller} is now {seller.get_status_display().lower()}. The owner has been "
                    "emailed.",
                )
                return HttpResponseRedirect(change_url)

        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: {seller}",
            "subtitle": None,
            "opts": self.opts,
            "original": seller,
            "decision": spec,
            "form": form,
            "shows_message": bool(spec.message),
            "change_url": change_url,
            "has_view_permission": self.has_view_permission(request, seller),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/sellers/seller/decision.html", context)

    def kyc_download_view(self, request, document_id):
        if not user_may_view_every_kyc_document(request.user):
            raise PermissionDenied
        document = KycDocument.objects.filter(pk=document_id).first()
        if document is None:
            raise Http404("No such document.")
        return kyc_file_response(document)

    # permissions=["change"]: without it Django offers an action to everyone who may only view.
    @admin.action(description="Approve selected applications", permissions=["change"])
    def approve_selected(self, request, queryset):
        approved, refused = [], []
        for seller in queryset.order_by("pk"):
            try:
                services.seller_approve(seller_id=seller.pk, actor=request.user)
            except DomainError as error:
                refused.append(f"{seller}: {error.message}")
            else:
                approved.append(str(seller))
        if approved:
            self.message_user(
                request,
                f"Approved {len(approved)} seller{'s' if len(approved) != 1 else ''}: "
                f"{', '.join(approved)}. Their owners have been emailed.",
                messages.SUCCESS,
            )
        for line in refused:
            self.message_user(request, f"Not approved: {line}", messages.WARNING)
