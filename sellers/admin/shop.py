"""Admin: qualifications, violations, staff, invitations, addresses, shipping, payout accounts.

Review decisions, violations and edits of addresses and shipping templates go through the
services (sellers/services/qualifications.py, violations.py, setup.py), so admin writes the same
rows, audits and emails, under the same rules, as any other caller. Qualification documents are
streamed by a staff-only admin view; they have no URL of their own.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from marketplace.errors import DomainError
from marketplace.uploads import private_file_response, private_storage
from sellers.models import (
    PayoutAccount,
    Qualification,
    SellerInvitation,
    SellerMember,
    ShippingTemplate,
    ShopAddress,
    Violation,
)
from sellers.services import qualifications as qualification_services
from sellers.services import setup as setup_services
from sellers.services import violations as violation_services

# --- Qualifications ---------------------------------------------------------------------------


class QualificationRejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for rejecting",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Emailed to the seller's owner and shown in their Seller Center. Say what a "
        "valid document would look like.",
    )


class PendingQueueFilter(admin.SimpleListFilter):
    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("pending", "Waiting for review")]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(status=Qualification.Status.PENDING).order_by("submitted_at")
        return queryset


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "seller", "kind", "status", "submitted_at", "document_link"]
    list_filter = [PendingQueueFilter, "status", "kind"]
    list_select_related = ["seller", "category"]
    search_fields = ["seller__shop_name", "brand_name", "category__name"]
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = [
        "seller",
        "kind",
        "category",
        "brand_name",
        "document_link",
        "original_name",
        "content_type",
        "status",
        "rejection_reason",
        "expires_on",
        "submitted_by",
        "submitted_at",
        "reviewed_by",
        "reviewed_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        # Sellers submit qualifications in the Seller Center, with a checked document.
        return False

    def has_change_permission(self, request, obj=None):
        # Decisions are actions (approve, reject), never edits of the row.
        return False

    def get_urls(self):
        own = [
            path(
                "<int:qualification_id>/document/",
                self.admin_site.admin_view(self.document_view),
                name="sellers_qualification_document",
            ),
            path(
                "reject/",
                self.admin_site.admin_view(self.reject_view),
                name="sellers_qualification_reject",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="Document")
    def document_link(self, obj):
        if not obj.pk or not obj.document:
            return "—"
        url = reverse("admin:sellers_qualification_document", args=[obj.pk])
        return format_html('<a href="{}">Download {}</a>', url, obj.original_name)

    def document_view(self, request, qualification_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        qualification = Qualification.objects.filter(pk=qualification_id).first()
        if qualification is None or not qualification.document:
            raise Http404("No such document.")
        try:
            handle = private_storage.open(qualification.document.name, "rb")
        except FileNotFoundError:
            raise Http404("The file of this document is missing.") from None
        return private_file_response(
            handle, filename=qualification.original_name, content_type=qualification.content_type
        )

    def _may_review(self, request) -> bool:
        # Review is a change of the row in spirit; admin's own change permission says who may.
        return request.user.has_perm("sellers.change_qualification")

    @admin.action(description="Approve selected qualifications")
    def approve_selected(self, request, queryset):
        if not self._may_review(request):
            raise PermissionDenied
        approved = 0
        for qualification in queryset.order_by("pk"):
            try:
                qualification_services.qualification_approve(
                    qualification_id=qualification.pk, actor=request.user
                )
            except DomainError as error:
                self.message_user(request, f"{qualification}: {error.message}", messages.WARNING)
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                f"Approved {approved} qualification{'s' if approved != 1 else ''}. The owners "
                "have been emailed.",
                messages.SUCCESS,
            )

    @admin.action(description="Reject selected qualifications (asks for a reason)")
    def reject_selected(self, request, queryset):
        if not self._may_review(request):
            raise PermissionDenied
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(reverse("admin:sellers_qualification_reject") + f"?ids={ids}")

    def reject_view(self, request):
        if not self._may_review(request):
            raise PermissionDenied
        raw_ids = request.POST.get("ids") or request.GET.get("ids") or ""
        try:
            ids = [int(part) for part in raw_ids.split(",") if part.strip()]
        except ValueError:
            raise Http404("No such qualifications.") from None
        selected = list(
            Qualification.objects.filter(pk__in=ids)
            .select_related("seller", "category")
            .order_by("pk")
        )
        changelist_url = reverse("admin:sellers_qualification_changelist")
        if not selected:
            messages.error(request, "Select at least one qualification to reject.")
            return HttpResponseRedirect(changelist_url)
        form = QualificationRejectForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            rejected = 0
            for qualification in selected:
                try:
                    qualification_services.qualification_reject(
                        qualification_id=qualification.pk,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                    )
                except DomainError as error:
                    self.message_user(
                        request, f"{qualification}: {error.message}", messages.WARNING
                    )
                else:
                    rejected += 1
            if rejected:
                self.message_user(
                    request,
                    f"Rejected {rejected} qualification{'s' if rejected != 1 else ''}. The owners "
                    "have been emailed the reason.",
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(changelist_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject qualifications",
            "subtitle": None,
            "opts": self.opts,
            "qualifications": selected,
            "ids": ",".join(str(qualification.pk) for qualification in selected),
            "form": form,
            "changelist_url": changelist_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/sellers/qualification/reject.html", context)


# --- Violations -------------------------------------------------------------------------------


class ActiveViolationFilter(admin.SimpleListFilter):
    title = "points"
    parameter_name = "points"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


class ViolationAdminForm(forms.ModelForm):
    class Meta:
        model = Violation
        fields = ["seller", "kind", "points", "reason", "occurred_at"]
        help_texts = {
            "points": f"1 to {violation_services.MAX_POINTS_PER_VIOLATION}. Thresholds (warning, "
            "listing pause, suspension) are in Enforcement settings.",
            "occurred_at": "When the breach happened. Points expire counting from this date.",
        }

    def clean_points(self):
        points = self.cleaned_data["points"]
        if not 1 <= points <= violation_services.MAX_POINTS_PER_VIOLATION:
            raise forms.ValidationError(
                f"A violation carries 1 to {violation_services.MAX_POINTS_PER_VIOLATION} points."
            )
        return points

    def clean_occurred_at(self):
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now():
            raise forms.ValidationError("A violation cannot happen in the future.")
        return occurred_at


@admin.register(Violation)
class ViolationAdmin(admin.ModelAdmin):
    form = ViolationAdminForm
    list_display = ["seller", "kind", "points", "occurred_at", "expires_at", "is_active_display"]
    list_filter = ["kind", ActiveViolationFilter]
    list_select_related = ["seller"]
    search_fields = ["seller__shop_name", "reason"]
    autocomplete_fields = ["seller"]
    date_hierarchy = "occurred_at"

    @admin.display(boolean=True, description="Active")
    def is_active_display(self, obj):
        return obj.is_active

    def get_readonly_fields(self, request, obj=None):
        # A recorded violation is history: its points already counted towards thresholds.
        if obj is not None:
            return [
                "seller",
                "kind",
                "points",
                "reason",
                "occurred_at",
                "expires_at",
                "recorded_by",
                "rule",
            ]
        return []

    def get_fields(self, request, obj=None):
        if obj is not None:
            return self.get_readonly_fields(request, obj)
        return ["seller", "kind", "points", "reason", "occurred_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        # The service writes the row (expiry, thresholds, suspension, emails), not the form.
        try:
            violation = violation_services.violation_record(
                seller_id=obj.seller_id,
                kind=obj.kind,
                points=obj.points,
                reason=obj.reason,
                recorded_by=request.user,
                occurred_at=obj.occurred_at,
            )
        except DomainError as error:
            obj.record_error = error.message
            return
        obj.pk = violation.pk
        obj.expires_at = violation.expires_at
        obj.recorded_by = request.user

    def log_addition(self, request, obj, message):
        if obj.pk is not None:
            return super().log_addition(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        error = getattr(obj, "record_error", None)
        if error:
            self.message_user(request, f"The violation was not recorded: {error}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:sellers_violation_add"))
        seller = obj.seller
        seller.refresh_from_db(fields=["status"])
        self.message_user(
            request,
            f"Recorded {obj.points} point{'s' if obj.points != 1 else ''} against {seller}. "
            f"The shop is {seller.get_status_display().lower()}.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:sellers_violation_changelist"))


# --- Staff, invitations, addresses, shipping, payouts -----------------------------------------


@admin.register(SellerMember)
class SellerMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "seller", "role", "joined_at"]
    list_filter = ["role"]
    list_select_related = ["user", "seller"]
    search_fields = ["user__email", "seller__shop_name"]
    readonly_fields = ["seller", "user", "role", "joined_at"]

    def has_add_permission(self, request):
        # People join through invitations (the owner through the application).
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SellerInvitation)
class SellerInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "seller", "role", "created_at", "expires_at", "state"]
    list_select_related = ["seller"]
    search_fields = ["email", "seller__shop_name"]
    # token_hash is left out: even hashed, a token has no business on a screen.
    fields = [
        "seller",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    ]
    readonly_fields = fields

    @admin.display(description="State")
    def state(self, obj):
        if obj.accepted_at:
            return "Accepted"
        if obj.revoked_at:
            return "Revoked"
        if obj.expires_at <= timezone.now():
            return "Expired"
        return "Pending"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ShopAddress)
class ShopAddressAdmin(admin.ModelAdmin):
    list_display = ["seller", "kind", "city", "country"]
    list_filter = ["kind", "country"]
    list_select_related = ["seller"]
    search_fields = ["seller__shop_name", "city", "postal_code"]
    readonly_fields = ["seller", "kind"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # The service writes the row, as for the seller's own edit.
        setup_services.shop_address_set(
            seller=obj.seller,
            kind=obj.kind,
            **{name: getattr(obj, name) for name in setup_services.ADDRESS_FIELDS},
        )


class ShippingTemplateAdminForm(forms.ModelForm):
    """Staff edit a template under the same rules as its seller (sellers.services.setup):
    a refusal is shown on the field, never a server error."""

    class Meta:
        model = ShippingTemplate
        fields = ["flat_fee_minor", "free_shipping_threshold_minor", "processing_days"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            setup_services.shipping_template_check(
                flat_fee_minor=cleaned["flat_fee_minor"],
                free_shipping_threshold_minor=cleaned.get("free_shipping_threshold_minor"),
                processing_days=cleaned["processing_days"],
                currency=self.instance.currency,
            )
        except setup_services.InvalidSetup as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(ShippingTemplate)
class ShippingTemplateAdmin(admin.ModelAdmin):
    form = ShippingTemplateAdminForm
    list_display = [
        "seller",
        "currency",
        "flat_fee_minor",
        "free_shipping_threshold_minor",
        "processing_days",
    ]
    list_select_related = ["seller"]
    search_fields = ["seller__shop_name"]
    readonly_fields = ["seller", "currency"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        # The service writes the row (its checks again, and the storefront's cached pages, which
        # show the fee, retired); the admin's change history records who did it.
        setup_services.shipping_template_set(
            seller=obj.seller,
            flat_fee_minor=obj.flat_fee_minor,
            free_shipping_threshold_minor=obj.free_shipping_threshold_minor,
            processing_days=obj.processing_days,
            currency=obj.currency,
        )


@admin.register(PayoutAccount)
class PayoutAccountAdmin(admin.ModelAdmin):
    list_display = ["seller", "gateway", "external_id", "status", "payouts_enabled", "updated_at"]
    list_filter = ["gateway", "status", "payouts_enabled"]
    list_select_related = ["seller"]
    search_fields = ["seller__shop_name", "external_id"]
    # Everything here mirrors the payment provider; it changes only by refreshing from it.
    readonly_fields = [
        "seller",
        "gateway",
        "external_id",
        "status",
        "charges_enabled",
        "payouts_enabled",
        "requirements_due",
        "bank_last4",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
