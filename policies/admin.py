"""Admin: policy documents and their versions, the category tree, keyword rules, enforcement
thresholds.

Policy versions are written through policies.services: a version that has taken effect opens
read-only (sellers accepted that exact text), and a change is a new version drafted from the
latest text. Seller acceptances are shown in the sellers admin.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Exists, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from marketplace.errors import DomainError
from marketplace.markdown import render_markdown
from marketplace.pagecache import storefront_changed
from policies import services
from policies.models import (
    Category,
    EnforcementSettings,
    KeywordRule,
    PolicyDocument,
    PolicyVersion,
)
from policies.screening import PROHIBITED, RESTRICTED, strictest_status

PATH_SEPARATOR = " \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} "

# Sellers need notice before a new text binds them; the add form suggests a date this far ahead.
DEFAULT_NOTICE = timedelta(days=30)


def _draft_url(document_id: int) -> str:
    return reverse("admin:policies_policyversion_add") + "?" + urlencode({"document": document_id})


class DomainErrorsAsMessagesMixin:
    """A service can still refuse after the form validated (a version took effect while the form
    was open, another staff member drafted first). The admin view's transaction is rolled back;
    show the reason instead of an error page."""

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
            )


# Policy documents and versions -----------------------------------------------------------------


class PolicyVersionInline(admin.TabularInline):
    """The document's history, read-only: versions are added and corrected on their own pages."""

    model = PolicyVersion
    fields = ["number", "effective_at", "status", "change_summary", "created_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    @admin.display(description="status")
    def status(self, version):
        return "Scheduled" if not version.has_taken_effect else "Taken effect"


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "version_in_force",
        "in_force_since",
        "next_version_at",
        "requires_seller_acceptance",
        "position",
        "draft_link",
    ]
    list_editable = ["position"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [PolicyVersionInline]
    actions = ["draft_new_version"]

    def get_readonly_fields(self, request, obj=None):
        # Other code finds a document by its kind; it is chosen once.
        return ["kind"] if obj else []

    def get_queryset(self, request):
        now = timezone.now()
        in_force = PolicyVersion.objects.filter(
            document=OuterRef("pk"), effective_at__lte=now
        ).order_by("-effective_at", "-number")
        scheduled = PolicyVersion.objects.filter(
            document=OuterRef("pk"), effective_at__gt=now
        ).order_by("effective_at", "number")
        return (
            super()
            .get_queryset(request)
            .annotate(
                in_force_number=Subquery(in_force.values("number")[:1]),
                in_force_at=Subquery(in_force.values("effective_at")[:1]),
                next_at=Subquery(scheduled.values("effective_at")[:1]),
            )
        )

    @admin.display(description="version in force", ordering="in_force_number")
    def version_in_force(self, document):
        return f"v{document.in_force_number}" if document.in_force_number else "none yet"

    @admin.display(description="in force since", ordering="in_force_at")
    def in_force_since(self, document):
        return document.in_force_at

    @admin.display(description="next version takes effect", ordering="next_at")
    def next_version_at(self, document):
        return document.next_at

    @admin.display(description="")
    def draft_link(self, document):
        return format_html('<a href="{}">Draft a new version</a>', _draft_url(document.pk))

    @admin.action(description="Draft a new version of the selected policy")
    def draft_new_version(self, request, queryset):
        documents = list(queryset[:2])
        if len(documents) != 1:
            self.message_user(
                request, "Select exactly one policy to draft a new version of.", messages.WARNING
            )
            return None
        return HttpResponseRedirect(_draft_url(documents[0].pk))


class PolicyVersionForm(forms.ModelForm):
    class Meta:
        model = PolicyVersion
        fields = ["document", "body_markdown", "change_summary", "effective_at"]
        help_texts = {
            "effective_at": "UTC. From this moment the text binds sellers; until then it can "
            "still be corrected. Give sellers notice: 30 days is the usual.",
        }

    def clean(self):
        cleaned = super().clean()
        document = cleaned.get("document") or getattr(self.instance, "document", None)
        effective_at = cleaned.get("effective_at")
        if document and effective_at:
            try:
                services.policy_version_check_effective_at(
                    document=document,
                    effective_at=effective_at,
                    number=self.instance.number if self.instance.pk else None,
                )
            except DomainError as error:
                self.add_error("effective_at", error.message)
        return cleaned


@admin.register(PolicyVersion)
class PolicyVersionAdmin(DomainErrorsAsMessagesMixin, admin.ModelAdmin):
    form = PolicyVersionForm
    list_display = ["__str__", "document", "number", "effective_at", "status", "change_summary"]
    list_filter = ["document"]
    search_fields = ["document__title", "change_summary", "body_markdown"]
    list_select_related = ["document"]
    ordering = ["document__position", "document__title", "-number"]
    date_hierarchy = "effective_at"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["document", "next_number"]}),
                ("Text", {"fields": ["body_markdown", "change_summary", "effective_at"]}),
            ]
        return [
            (None, {"fields": ["document", "number", "status", "draft_new_version_link"]}),
            ("Text", {"fields": ["body_markdown", "change_summary", "effective_at"]}),
            ("Preview", {"fields": ["preview"]}),
            ("Record", {"fields": ["created_by", "created_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["next_number"]
        return [
            "document",
            "number",
            "status",
            "draft_new_version_link",
            "preview",
            "created_by",
            "created_at",
        ]

    def has_change_permission(self, request, obj=None):
        # Sellers accepted the exact text in force: once its date has come a version is shown
        # read-only, and a change is a new version.
        if obj is not None and obj.has_taken_effect:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.has_taken_effect:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Bulk delete would bypass the checks of policy_version_withdraw.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        document_id = str(initial.get("document", ""))
        document = (
            PolicyDocument.objects.filter(pk=document_id).first() if document_id.isdigit() else None
        )
        latest = (
            PolicyVersion.objects.filter(document=document).order_by("-number").first()
            if document
            else None
        )
        start_of_today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        effective_at = start_of_today + DEFAULT_NOTICE
        if latest is not None:
            initial.setdefault("body_markdown", latest.body_markdown)
            effective_at = max(effective_at, latest.effective_at + timedelta(days=1))
        initial.setdefault("effective_at", effective_at)
        return initial

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.policy_version_update(
                version=obj,
                body_markdown=data["body_markdown"],
                change_summary=data["change_summary"],
                effective_at=data["effective_at"],
            )
            return
        created = services.policy_version_create(
            document=data["document"],
            body_markdown=data["body_markdown"],
            change_summary=data["change_summary"],
            effective_at=data["effective_at"],
            created_by=request.user,
        )
        # The admin goes on to log and redirect with `obj`; make it the row the service wrote.
        obj.pk = created.pk
        obj.number = created.number
        obj.created_by = created.created_by
        obj.created_at = created.created_at
        obj._state.adding = False

    def delete_model(self, request, obj):
        services.policy_version_withdraw(version=obj)

    @admin.display(description="number")
    def next_number(self, obj):
        return "Assigned when you save: the next number after the latest version of the policy."

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                superseded=Exists(
                    PolicyVersion.objects.filter(
                        document=OuterRef("document"),
                        number__gt=OuterRef("number"),
                        effective_at__lte=timezone.now(),
                    )
                )
            )
        )

    @admin.display(description="status")
    def status(self, version):
        if not version.has_taken_effect:
            return "Scheduled"
        return "Superseded" if version.superseded else "In force"

    @admin.display(description="change")
    def draft_new_version_link(self, version):
        return format_html(
            '<a class="button" href="{}">Draft a new version</a> '
            '<span class="help">starts from the latest text of this policy</span>',
            _draft_url(version.document_id),
        )

    @admin.display(description="rendered text")
    def preview(self, version):
        return format_html(
            '<div class="policy-preview" style="max-width: 70ch">{}</div>',
            render_markdown(version.body_markdown),
        )


# Category tree -----------------------------------------------------------------------------------


def _ancestors(category: Category) -> list[Category]:
    """The category's parents, nearest first (follows the select_related chain, so shallow trees
    cost no extra query)."""
    chain, seen, parent = [], {category.pk}, category.parent
    while parent is not None and parent.pk not in seen:
        chain.append(parent)
        seen.add(parent.pk)
        parent = parent.parent
    return chain


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = [
            "name",
            "slug",
            "parent",
            "policy_status",
            "policy_reason",
            "qualification_hint",
            "position",
        ]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        own_pk = self.instance.pk
        if parent is not None and own_pk is not None:
            lineage = [parent, *_ancestors(parent)]
            if any(ancestor.pk == own_pk for ancestor in lineage):
                raise forms.ValidationError(
                    "A category cannot sit inside itself or one of its own subcategories."
                )
        return parent


class TopLevelFilter(admin.SimpleListFilter):
    title = "level"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [("top", "Top-level only"), ("sub", "Subcategories only")]

    def queryset(self, request, queryset):
        if self.value() == "top":
            return queryset.filter(parent__isnull=True)
        if self.value() == "sub":
            return queryset.filter(parent__isnull=False)
        return queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm

    # The storefront shows category names and the tree: cached storefront pages must go.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        storefront_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        storefront_changed()

    list_display = ["tree_name", "slug", "parent", "policy_status", "effective_status", "position"]
    list_editable = ["policy_status", "position"]
    list_filter = ["policy_status", TopLevelFilter]
    search_fields = ["name", "slug", "policy_reason"]
    list_select_related = ["parent__parent__parent__parent"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]

    def get_ordering(self, request):
        # Tree order (each category right after its parent) for the three levels the catalog
        # uses: sort by the root's name, then the second level's, then the third's.
        return [
            Coalesce("parent__parent__name", "parent__name", "name"),
            Case(
                When(parent__parent__isnull=False, then=F("parent__name")),
                When(parent__isnull=False, then=F("name")),
                default=Value(""),
            ),
            Case(When(parent__parent__isnull=False, then=F("name")), default=Value("")),
        ]

    @admin.display(description="category (path)", ordering="name")
    def tree_name(self, category):
        path = [*reversed(_ancestors(category)), category]
        return PATH_SEPARATOR.join(node.name for node in path)

    @admin.display(description="effective status")
    def effective_status(self, category):
        """What applies to listings in this category: the strictest status on its path."""
        path = [category, *_ancestors(category)]
        status = strictest_status(node.policy_status for node in path)
        if status not in (PROHIBITED, RESTRICTED):
            return "allowed"
        ruling = next(node for node in path if node.policy_status == status)
        return status if ruling is category else f"{status} (from {ruling.name})"


# Keyword rules -----------------------------------------------------------------------------------


class KeywordRuleForm(forms.ModelForm):
    class Meta:
        model = KeywordRule
        fields = ["phrase", "action", "reason", "suggestion", "is_active"]

    def clean_phrase(self):
        # Matching ignores case and spacing, so store one canonical form and let the unique
        # constraint catch "Vintage" next to "vintage".
        phrase = " ".join(self.cleaned_data["phrase"].split()).lower()
        if not any(character.isalnum() for character in phrase):
            raise forms.ValidationError("A phrase needs at least one letter or digit.")
        return phrase


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    form = KeywordRuleForm
    list_display = ["phrase", "action", "reason", "suggestion", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["action", "is_active"]
    search_fields = ["phrase", "reason"]


# Enforcement settings (one row) ------------------------------------------------------------------


@admin.register(EnforcementSettings)
class EnforcementSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "warn_points",
        "restrict_listing_points",
        "suspend_points",
        "points_expire_after_days",
    ]

    def has_add_permission(self, request):
        # The one row is EnforcementSettings.current() (pk 1). A row added here could get another
        # pk, and the services would go on reading the defaults from a second row.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One row: the list would only ever hold one line, so open the row the services read.
        return HttpResponseRedirect(
            reverse(
                "admin:policies_enforcementsettings_change",
                args=[EnforcementSettings.current().pk],
            )
        )
