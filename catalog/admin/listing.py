"""Admin: products, the listing review queue, revisions, decisions, brands, category attributes.

Staff never edit a product's status or content here: the product and revision pages are read-only,
and decisions are buttons (on the change page) and actions (on the list) that call the services
in catalog/services/listing.py, so every decision is recorded, audited and emailed like any other.
Rejecting asks for reasons on an intermediate page; they are shown to the seller.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from catalog.models import (
    SKU,
    Brand,
    CategoryAttribute,
    ListingDecision,
    Product,
    ProductImage,
    ProductRevision,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services import listing as listing_services
from marketplace.errors import DomainError
from marketplace.money import Money
from policies.screening import normalize_brand

REVIEW_PERMISSION = "catalog.change_product"


class ReviewRejectForm(forms.Form):
    reasons = forms.CharField(
        label="Reasons for rejecting",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
        help_text="One reason a line. Each is shown to the seller in the Seller Center and "
        "emailed to the shop's owner; say what to change.",
    )

    def clean_reasons(self):
        reasons = [line.strip() for line in self.cleaned_data["reasons"].splitlines()]
        reasons = [reason for reason in reasons if reason]
        if not reasons:
            raise forms.ValidationError("Give at least one reason.")
        return reasons


def _money(amount_minor, currency) -> str:
    return Money(int(amount_minor), currency).format() if amount_minor is not None else "—"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    # What each row shows of its relations, joined once instead of a query per row.
    list_select_related: tuple[str, ...] = ()

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self.list_select_related:
            queryset = queryset.select_related(*self.list_select_related)
        return queryset

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SKUInline(ReadOnlyInline):
    model = SKU
    list_select_related = ("product",)
    fields = (
        "seller_sku",
        "options",
        "price",
        "compare_at",
        "stock_on_hand",
        "weight_grams",
        "is_active",
    )
    readonly_fields = fields
    verbose_name = "SKU"

    @admin.display(description="Options")
    def options(self, sku):
        return sku.option_label

    @admin.display(description="Price")
    def price(self, sku):
        return _money(sku.price_minor, sku.product.currency)

    @admin.display(description="Compare-at")
    def compare_at(self, sku):
        return _money(sku.compare_at_price_minor, sku.product.currency)


class ProductImageInline(ReadOnlyInline):
    model = ProductImage
    fields = ("preview", "position", "width", "height", "alt_text")
    readonly_fields = fields

    @admin.display(description="Image")
    def preview(self, image):
        source = image.thumbnail or image.image
        if not source:
            return "—"
        return format_html(
            '<a href="{}"><img src="{}" alt="" width="80" height="80" style="object-fit:cover"></a>',
            image.image.url,
            source.url,
        )


def _reasons_html(reasons) -> str:
    if not reasons:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "",
            "<li>{}{}</li>",
            (
                (
                    reason.get("message", ""),
                    format_html(" <em>Suggestion: {}</em>", reason["suggestion"])
                    if reason.get("suggestion")
                    else "",
                )
                for reason in reasons
            ),
        ),
    )


class ListingDecisionInline(ReadOnlyInline):
    model = ListingDecision
    list_select_related = ("decided_by", "revision")
    fields = ("created_at", "outcome", "decided_by_or_rule", "revision", "reasons_list")
    readonly_fields = fields
    verbose_name = "decision"
    verbose_name_plural = "review decisions"

    @admin.display(description="Decided by")
    def decided_by_or_rule(self, decision):
        return decision.decided_by or f"rule: {decision.rule}"

    @admin.display(description="Reasons")
    def reasons_list(self, decision):
        return _reasons_html(decision.reasons)


class ProductStatusEventInline(ReadOnlyInline):
    model = ProductStatusEvent
    list_select_related = ("actor",)
    fields = ("created_at", "from_status", "to_status", "actor", "message")
    readonly_fields = fields
    verbose_name = "status change"
    verbose_name_plural = "status history"


class ProductRevisionInline(ReadOnlyInline):
    model = ProductRevision
    list_select_related = ("created_by",)
    fk_name = "product"
    fields = ("link", "status", "created_by", "created_at")
    readonly_fields = fields
    verbose_name = "revision (edit of the live product)"
    verbose_name_plural = "revisions (edits of the live product)"

    @admin.display(description="Revision")
    def link(self, revision):
        url = reverse("admin:catalog_productrevision_change", args=[revision.pk])
        return format_html('<a href="{}">Revision {}</a>', url, revision.pk)


class ReviewQueueFilter(admin.SimpleListFilter):
    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("pending", "Waiting for review")]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            # Oldest first: the status change to pending_review updates updated_at.
            return queryset.filter(status=ProductStatus.PENDING_REVIEW).order_by("updated_at", "id")
        return queryset


@dataclass(frozen=True)
class ReviewTarget:
    """What a review page decides on: products or revisions, and the services that decide."""

    noun: str
    changelist: str
    url_name: str

    def approve(self, *, object_id: int, actor):
        if self.noun == "product":
            return listing_services.product_review_approve(product_id=object_id, actor=actor)
        return listing_services.revision_approve(revision_id=object_id, actor=actor)

    def reject(self, *, object_id: int, actor, reasons: list[str]):
        if self.noun == "product":
            return listing_services.product_review_reject(
                product_id=object_id, actor=actor, reasons=reasons
            )
        return listing_services.revision_reject(revision_id=object_id, actor=actor, reasons=reasons)


class ReviewAdminMixin:
    """Approve and reject, from the change page (buttons) and the list (actions). Rejecting goes
    through an intermediate page that asks for the reasons."""

    review_target: ReviewTarget
    pending_status: str

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW_PERMISSION)

    def has_change_permission(self, request, obj=None):
        # Read-only: decisions go through the review buttons and actions, never a form save.
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _review_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                "review/<str:decision>/",
                self.admin_site.admin_view(self.review_view),
                name="{}_{}_review".format(*info),
            )
        ]

    def _review_url(self, decision: str, ids) -> str:
        url = reverse(f"admin:{self.review_target.url_name}", args=[decision])
        return f"{url}?ids={','.join(str(pk) for pk in ids)}"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        buttons = []
        if (
            obj is not None
            and obj.status == self.pending_status
            and self.has_review_permission(request)
        ):
            buttons = [
                ("Approve", self._review_url("approve", [obj.pk]), "decision-approve"),
                ("Reject", self._review_url("reject", [obj.pk]), "decision-danger"),
            ]
        extra_context = {**(extra_context or {}), "review_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "review_queue_count": self.model.objects.filter(status=self.pending_status).count(),
            "review_queue_query": "?queue=pending",
        }
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description="Approve selected", permissions=["review"])
    def approve_selected(self, request, queryset):
        return HttpResponseRedirect(
            self._review_url("approve", queryset.order_by("pk").values_list("pk", flat=True))
        )

    @admin.action(description="Reject selected (asks for reasons)", permissions=["review"])
    def reject_selected(self, request, queryset):
        return HttpResponseRedirect(
            self._review_url("reject", queryset.order_by("pk").values_list("pk", flat=True))
        )

    def review_view(self, request, decision):
        if decision not in ("approve", "reject"):
            raise Http404("No such decision.")
        if not self.has_review_permission(request):
            raise PermissionDenied
        raw_ids = request.POST.get("ids") or request.GET.get("ids") or ""
        try:
            ids = [int(part) for part in raw_ids.split(",") if part.strip()]
        except ValueError:
            ids = []
        # An id no row can have is dropped here: SQLite cannot even compare one past 64 bits.
        ids = [pk for pk in ids if 0 < pk < 2**63]
        selected = list(self.get_queryset(request).filter(pk__in=ids).order_by("pk"))
        changelist_url = reverse(f"admin:{self.review_target.changelist}")
        if not selected:
            messages.error(request, "Select at least one item to review.")
            return HttpResponseRedirect(changelist_url)
        form = ReviewRejectForm(request.POST if request.method == "POST" else None)
        wants_reasons = decision == "reject"
        if request.method == "POST" and (not wants_reasons or form.is_valid()):
            done, refused = 0, []
            for obj in selected:
                try:
                    if wants_reasons:
                        self.review_target.reject(
                            object_id=obj.pk,
                            actor=request.user,
                            reasons=form.cleaned_data["reasons"],
                        )
                    else:
                        self.review_target.approve(object_id=obj.pk, actor=request.user)
                except DomainError as error:
                    refused.append(f"{obj}: {error.message}")
                else:
                    done += 1
            if done:
                verb = "Rejected" if wants_reasons else "Approved"
                self.message_user(
                    request,
                    f"{verb} {done} {self.review_target.noun}{'s' if done != 1 else ''}. The "
                    "sellers' owners have been emailed.",
                    messages.SUCCESS,
                )
            for line in refused:
                self.message_user(request, f"Not changed: {line}", messages.WARNING)
            if len(selected) == 1:
                return HttpResponseRedirect(
                    reverse(
                        f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change",
                        args=[selected[0].pk],
                    )
                )
            return HttpResponseRedirect(changelist_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{'Reject' if wants_reasons else 'Approve'} {self.review_target.noun}s",
            "subtitle": None,
            "opts": self.model._meta,
            "objects": selected,
            "pending_status": self.pending_status,
            "ids": ",".join(str(obj.pk) for obj in selected),
            "form": form,
            "wants_reasons": wants_reasons,
            "decision_label": "Reject" if wants_reasons else "Approve",
            "changelist_url": changelist_url,
            "noun": self.review_target.noun,
        }
        return TemplateResponse(request, "admin/catalog/review.html", context)


@admin.register(Product)
class ProductAdmin(ReviewAdminMixin, admin.ModelAdmin):
    review_target = ReviewTarget("product", "catalog_product_changelist", "catalog_product_review")
    pending_status = ProductStatus.PENDING_REVIEW

    list_display = (
        "title",
        "seller",
        "status",
        "category",
        "price_range",
        "in_stock",
        "published_at",
    )
    list_filter = (ReviewQueueFilter, "status", "category")
    list_select_related = ("seller", "category")
    search_fields = ("title", "seller__shop_name")
    date_hierarchy = "created_at"
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = (
        "seller",
        "status",
        "title",
        "description",
        "category",
        "brand",
        "attributes",
        "currency",
        "price_range",
        "in_stock",
        "rating_x100",
        "rating_count",
        "created_at",
        "updated_at",
        "published_at",
    )
    fieldsets = (
        (
            "Status",
            {
                "fields": ("status", "published_at", "created_at", "updated_at"),
                "description": "The status changes only through the review buttons and the "
                "seller's actions; every change is in the status history below.",
            },
        ),
        (
            "Listing",
            {"fields": ("seller", "title", "category", "brand", "description", "attributes")},
        ),
        ("Price and stock", {"fields": ("currency", "price_range", "in_stock")}),
        ("Ratings", {"fields": ("rating_x100", "rating_count")}),
    )
    inlines = [
        SKUInline,
        ProductImageInline,
        ListingDecisionInline,
        ProductRevisionInline,
        ProductStatusEventInline,
    ]

    def get_urls(self):
        return self._review_urls() + super().get_urls()

    @admin.display(description="Price", ordering="price_min_minor")
    def price_range(self, product):
        if not product.price_max_minor:
            return "—"
        low = _money(product.price_min_minor, product.currency)
        if product.price_min_minor == product.price_max_minor:
            return low
        return f"{low} to {_money(product.price_max_minor, product.currency)}"


class RevisionQueueFilter(ReviewQueueFilter):
    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(status=ProductRevision.Status.PENDING_REVIEW).order_by(
                "created_at", "id"
            )
        return queryset


@admin.register(ProductRevision)
class ProductRevisionAdmin(ReviewAdminMixin, admin.ModelAdmin):
    review_target = ReviewTarget(
        "revision", "catalog_productrevision_changelist", "catalog_productrevision_review"
    )
    pending_status = ProductRevision.Status.PENDING_REVIEW

    list_display = ("__str__", "product", "seller", "status", "created_by", "created_at")
    list_filter = (RevisionQueueFilter, "status")
    list_select_related = ("product", "product__seller", "created_by")
    search_fields = ("product__title", "product__seller__shop_name")
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = ("product", "status", "created_by", "created_at", "changes", "decisions")
    fields = readonly_fields

    def get_urls(self):
        return self._review_urls() + super().get_urls()

    @admin.display(description="Seller", ordering="product__seller__shop_name")
    def seller(self, revision):
        return revision.product.seller

    @admin.display(description="Proposed changes (live version → this edit)")
    def changes(self, revision):
        product = revision.product
        proposed = listing_services.revision_snapshot_display(revision)
        live = {
            "title": product.title,
            "description": product.description,
            "category": product.category.name,
            "brand": product.brand.name if product.brand_id else "",
            "attributes": product.attributes or {},
        }
        rows = []
        for field in ("title", "category", "brand", "description", "attributes"):
            before, after = live[field], proposed[field]
            if isinstance(before, dict):
                before = "; ".join(f"{k}: {v}" for k, v in before.items())
                after = "; ".join(f"{k}: {v}" for k, v in after.items())
            rows.append(
                (
                    "background:#fff7e6" if before != after else "",
                    field.capitalize(),
                    before or "—",
                    after or "—",
                    "changed" if before != after else "same",
                )
            )
        return format_html(
            '<table class="revision-diff"><thead><tr><th>Field</th><th>Live now</th>'
            "<th>Proposed</th><th></th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                '<tr style="{}"><th>{}</th><td style="white-space:pre-wrap">{}</td>'
                '<td style="white-space:pre-wrap">{}</td><td>{}</td></tr>',
                rows,
            ),
        )

    @admin.display(description="Decisions")
    def decisions(self, revision):
        return (
            format_html_join(
                "",
                "<p><strong>{}</strong> {} by {}</p>{}",
                (
                    (
                        decision.get_outcome_display(),
                        decision.created_at.strftime("%d %b %Y %H:%M"),
                        decision.decided_by or f"rule: {decision.rule}",
                        _reasons_html(decision.reasons),
                    )
                    for decision in revision.decisions.select_related("decided_by")
                ),
            )
            or "—"
        )


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ("name", "slug")

    def clean(self):
        data = super().clean()
        normalized = normalize_brand(data.get("name", ""))
        if not normalized:
            self.add_error("name", "Enter the brand's name.")
            return data
        clash = Brand.objects.filter(normalized_name=normalized).exclude(pk=self.instance.pk)
        if clash.exists():
            self.add_error("name", "A brand with this name exists already.")
        # Brand authorizations are matched on this key; keep it derived from the name.
        self.instance.normalized_name = normalized
        return data


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    form = BrandForm
    list_display = ("name", "slug", "normalized_name")
    search_fields = ("name", "normalized_name")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CategoryAttribute)
class CategoryAttributeAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "kind", "is_required", "position")
    list_filter = ("kind", "is_required", "category")
    list_select_related = ("category",)
    search_fields = ("name", "category__name")
    prepopulated_fields = {"slug": ("name",)}
