"""Admin: intellectual-property complaints and appeals, bulk uploads.

Staff work two queues on the complaint list (complaints to decide, appeals to decide). Each
decision (uphold, dismiss, grant, deny) asks for the note its readers get on an intermediate page,
then calls the service in catalog/services/ip_complaints.py, so admin writes the same rows,
violations and emails as any other caller. Proofs and appeal evidence are streamed by staff-only
admin views as attachments; they have no URL of their own. Bulk uploads are read-only here.
"""

from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from catalog.forms.ip import IPDecisionForm
from catalog.models import BulkUpload, IPComplaint
from catalog.selectors import bulk_uploads_with_rejected_count
from catalog.services import ip_complaints as ip_services
from marketplace.errors import DomainError
from marketplace.uploads import private_document_response

# --- IP complaints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    stage: str  # "complaint" or "appeal": what must be waiting for a decision
    label: str
    explanation: str
    note_help: str
    service: object
    done_message: str

    def applies_to(self, complaint: IPComplaint) -> bool:
        if self.stage == "complaint":
            return complaint.status == IPComplaint.Status.SUBMITTED
        return complaint.appeal_status == IPComplaint.AppealStatus.SUBMITTED


DECISIONS: dict[str, Decision] = {
    "uphold": Decision(
        stage="complaint",
        label="Uphold the complaint",
        explanation=(
            "The product is taken off sale (deactivated by the platform), the seller gets "
            f"{ip_services.IP_VIOLATION_POINTS} violation points, and the seller's owner and the "
            "complainant are emailed this note. The seller may appeal once."
        ),
        note_help="Emailed to the seller and the complainant, and shown in the seller's "
        "violation record. Say which right the listing infringes and how.",
        service=ip_services.ip_complaint_uphold,
        done_message="Complaint {reference} upheld: the product is off sale and {points} "
        "violation points were recorded. The seller and the complainant have been emailed.",
    ),
    "dismiss": Decision(
        stage="complaint",
        label="Dismiss the complaint",
        explanation="The product stays on sale. The complainant is emailed this note; the seller "
        "is not told (it never heard of the complaint).",
        note_help="Emailed to the complainant. Say why the complaint does not hold.",
        service=ip_services.ip_complaint_dismiss,
        done_message="Complaint {reference} dismissed. The complainant has been emailed.",
    ),
    "grant": Decision(
        stage="appeal",
        label="Grant the appeal",
        explanation="The product goes back on sale. The violation stays on the seller's record "
        "(violations are history); this note explains the reversal and is emailed to the "
        "seller's owner.",
        note_help="Emailed to the seller's owner.",
        service=ip_services.ip_appeal_grant,
        done_message="Appeal on {reference} granted: the product is back on sale. The seller "
        "has been emailed.",
    ),
    "deny": Decision(
        stage="appeal",
        label="Deny the appeal",
        explanation="The product stays off sale and the decision is final. The seller's owner is "
        "emailed this note.",
        note_help="Emailed to the seller's owner. Say why the evidence does not change the "
        "decision.",
        service=ip_services.ip_appeal_deny,
        done_message="Appeal on {reference} denied. The seller has been emailed.",
    ),
}


class QueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("complaints", "Complaints to decide"), ("appeals", "Appeals to decide")]

    def queryset(self, request, queryset):
        # Oldest first: a queue is worked in the order people have been waiting.
        if self.value() == "complaints":
            return queryset.filter(status=IPComplaint.Status.SUBMITTED).order_by("created_at", "id")
        if self.value() == "appeals":
            return queryset.filter(appeal_status=IPComplaint.AppealStatus.SUBMITTED).order_by(
                "appeal_submitted_at", "id"
            )
        return queryset


@admin.register(IPComplaint)
class IPComplaintAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "product",
        "shop",
        "right_type",
        "status",
        "appeal_status",
        "created_at",
    ]
    list_filter = [QueueFilter, "status", "appeal_status", "right_type"]
    list_select_related = ["product", "product__seller"]
    search_fields = [
        "product__title",
        "product__seller__shop_name",
        "rights_owner",
        "complainant__email",
    ]
    fieldsets = [
        (
            "Complaint",
            {
                "fields": [
                    "reference",
                    "product",
                    "shop",
                    "product_status",
                    "complainant",
                    "right_type",
                    "rights_owner",
                    "registration_number",
                    "description",
                    "proof_link",
                    "created_at",
                ]
            },
        ),
        ("Decision", {"fields": ["status", "decision_note", "decided_by", "decided_at"]}),
        (
            "Appeal",
            {
                "fields": [
                    "appeal_status",
                    "appeal_text",
                    "evidence_link",
                    "appeal_submitted_at",
                    "appeal_note",
                    "appeal_decided_by",
                    "appeal_decided_at",
                ]
            },
        ),
    ]
    readonly_fields = [name for _, options in fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        # Rights owners file complaints on the site, with a checked proof.
        return False

    def has_change_permission(self, request, obj=None):
        # Decisions are buttons that call the services, never edits of the row.
        return False

    def has_delete_permission(self, request, obj=None):
        # A complaint is the record behind a takedown and a violation.
        return False

    def get_urls(self):
        own = [
            path(
                "<int:complaint_id>/decide/<str:decision>/",
                self.admin_site.admin_view(self.decide_view),
                name="catalog_ipcomplaint_decide",
            ),
            path(
                "<int:complaint_id>/proof/",
                self.admin_site.admin_view(self.proof_view),
                name="catalog_ipcomplaint_proof",
            ),
            path(
                "<int:complaint_id>/evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="catalog_ipcomplaint_evidence",
            ),
        ]
        return own + super().get_urls()

    # --- Display

    @admin.display(description="Reference", ordering="pk")
    def reference(self, obj):
        return ip_services.ip_complaint_reference(obj)

    @admin.display(description="Shop", ordering="product__seller__shop_name")
    def shop(self, obj):
        return obj.product.seller.shop_name

    @admin.display(description="Product status now")
    def product_status(self, obj):
        return obj.product.get_status_display()

    @admin.display(description="Proof of rights")
    def proof_link(self, obj):
        if not obj.pk or not obj.proof:
            return "—"
        url = reverse("admin:catalog_ipcomplaint_proof", args=[obj.pk])
        return format_html('<a href="{}">Download {}</a>', url, obj.proof_name or "the proof")

    @admin.display(description="Appeal evidence")
    def evidence_link(self, obj):
        if not obj.pk or not obj.appeal_evidence:
            return "—"
        url = reverse("admin:catalog_ipcomplaint_evidence", args=[obj.pk])
        return format_html(
            '<a href="{}">Download {}</a>', url, obj.appeal_evidence_name or "the evidence"
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "complaints_waiting": IPComplaint.objects.filter(
                status=IPComplaint.Status.SUBMITTED
            ).count(),
            "appeals_waiting": IPComplaint.objects.filter(
                appeal_status=IPComplaint.AppealStatus.SUBMITTED
            ).count(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # get_object answers None for any id that is not one (str.isdigit() lets "²" through).
        complaint = self.get_object(request, unquote(object_id))
        decisions = []
        if complaint is not None and self._may_decide(request):
            decisions = [
                (
                    key,
                    decision,
                    reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, key]),
                )
                for key, decision in DECISIONS.items()
                if decision.applies_to(complaint)
            ]
        extra_context = {**(extra_context or {}), "decisions": decisions}
        return super().change_view(request, object_id, form_url, extra_context)

    # --- Documents

    def _document_complaint(self, request, complaint_id: int) -> IPComplaint:
        if not self.has_view_permission(request):
            raise PermissionDenied
        complaint = IPComplaint.objects.filter(pk=complaint_id).first()
        if complaint is None:
            raise Http404("No such complaint.")
        return complaint

    def proof_view(self, request, complaint_id):
        complaint = self._document_complaint(request, complaint_id)
        if not complaint.proof:
            raise Http404("No such document.")
        return private_document_response(
            stored_name=complaint.proof.name, filename=complaint.proof_name
        )

    def evidence_view(self, request, complaint_id):
        complaint = self._document_complaint(request, complaint_id)
        if not complaint.appeal_evidence:
            raise Http404("No such document.")
        return private_document_response(
            stored_name=complaint.appeal_evidence.name, filename=complaint.appeal_evidence_name
        )

    # --- Decisions

    def _may_decide(self, request) -> bool:
        # A decision changes the complaint in spirit; admin's change permission says who may.
        return request.user.has_perm("catalog.change_ipcomplaint")

    def decide_view(self, request, complaint_id, decision):
        if not self._may_decide(request):
            raise PermissionDenied
        chosen = DECISIONS.get(decision)
        complaint = (
            IPComplaint.objects.select_related("product", "product__seller", "complainant")
            .filter(pk=complaint_id)
            .first()
        )
        if chosen is None or complaint is None:
            raise Http404("No such decision.")
        change_url = reverse("admin:catalog_ipcomplaint_change", args=[complaint.pk])
        reference = ip_services.ip_complaint_reference(complaint)
        form = IPDecisionForm(request.POST if request.method == "POST" else None)
        form.fields["note"].help_text = chosen.note_help
        if request.method == "POST" and form.is_valid():
            try:
                chosen.service(
                    complaint_id=complaint.pk, actor=request.user, note=form.cleaned_data["note"]
                )
            except DomainError as error:
                self.message_user(request, f"{reference}: {error.message}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    chosen.done_message.format(
                        reference=reference, points=ip_services.IP_VIOLATION_POINTS
                    ),
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{chosen.label}: {reference}",
            "subtitle": None,
            "opts": self.opts,
            "original": complaint,
            "reference": reference,
            "decision": chosen,
            "applies": chosen.applies_to(complaint),
            "form": form,
            "change_url": change_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(
            request,
            "admin/catalog/ipcomplaint/decision.html",
            context,
            status=400 if request.method == "POST" else 200,
        )


# --- Bulk uploads ------------------------------------------------------------------------------


@admin.register(BulkUpload)
class BulkUploadAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "seller",
        "status",
        "total_rows",
        "processed_rows",
        "created_count",
        "rejected_count",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["seller"]
    search_fields = ["original_name", "seller__shop_name"]
    date_hierarchy = "created_at"
    # The file itself is left out: private files have no URL, and the rows are what matter.
    fields = [
        "seller",
        "original_name",
        "status",
        "total_rows",
        "processed_rows",
        "created_count",
        "rejected_count",
        "rejected_rows",
        "error",
        "created_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # The count comes from the database; the list never reads the (large) rejected rows.
        return bulk_uploads_with_rejected_count(super().get_queryset(request))

    @admin.display(description="Rows rejected", ordering="rejected_count")
    def rejected_count(self, obj):
        return obj.rejected_count

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
