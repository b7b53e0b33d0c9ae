"""Seller Center product pages (/seller/products/): the list with status tabs and the inline price
and stock edit, create, edit, the product page with its review history, images and actions.

Every view is wrapped in `seller_center_view(Section.PRODUCTS, require_approved=True)` and reads
products through `_seller_products(request)`, which filters by the signed-in member's seller: a
product id of another seller answers 404, never its data. Views parse input and call the services
in catalog/services; a DomainError becomes a message or a field error.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from catalog.forms.seller import (
    ImageUploadForm,
    ProductForm,
    SkuPriceStockForm,
    VariantForm,
    VariantFormSet,
    category_choice_labels,
)
from catalog.models import (
    SKU,
    ListingDecision,
    Product,
    ProductImage,
    ProductRevision,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services import images as image_services
from catalog.services import listing as listing_services
from catalog.services.products import InvalidProduct, product_create
from marketplace.errors import DomainError
from marketplace.markdown import render_markdown
from marketplace.money import Money
from policies.models import Category
from policies.screening import ReasonCode
from sellers.access import seller_center_view
from sellers.prerequisites import seller_listing_prerequisites
from sellers.roles import Section

PAGE_SIZE = 25
HISTORY_LIMIT = 20
products_view = seller_center_view(Section.PRODUCTS, require_approved=True)


@dataclass(frozen=True)
class Tab:
    key: str
    label: str
    statuses: tuple[str, ...]


# "All" leaves out deleted products: they are in the bin, shown only on their own tab.
TABS = (
    Tab(
        "all",
        "All",
        tuple(status for status in ProductStatus.values if status != ProductStatus.DELETED),
    ),
    Tab("live", "Live", (ProductStatus.LIVE,)),
    Tab("pending", "Pending review", (ProductStatus.PENDING_REVIEW,)),
    Tab("rejected", "Rejected", (ProductStatus.REJECTED,)),
    Tab("drafts", "Drafts", (ProductStatus.DRAFT,)),
    Tab(
        "deactivated",
        "Deactivated",
        (ProductStatus.SELLER_DEACTIVATED, ProductStatus.PLATFORM_DEACTIVATED),
    ),
    Tab("deleted", "Deleted", (ProductStatus.DELETED,)),
)
TABS_BY_KEY = {tab.key: tab for tab in TABS}

STATUS_BADGES = {
    ProductStatus.DRAFT: "badge",
    ProductStatus.PENDING_REVIEW: "badge badge-warning",
    ProductStatus.LIVE: "badge badge-success",
    ProductStatus.REJECTED: "badge badge-danger",
    ProductStatus.SELLER_DEACTIVATED: "badge",
    ProductStatus.PLATFORM_DEACTIVATED: "badge badge-danger",
    ProductStatus.DELETED: "badge",
}

ACTION_LABELS = {
    "submit": "Submit for review",
    "deactivate": "Deactivate",
    "reactivate": "Reactivate",
    "delete": "Delete",
    "restore": "Restore as draft",
    "duplicate": "Duplicate",
}


def _seller_products(request):
    """The only way these views reach products: the signed-in member's seller's."""
    return Product.objects.filter(seller=request.seller)


def _seller_product_or_404(request, pk: int) -> Product:
    return get_object_or_404(
        _seller_products(request).select_related("category", "brand", "seller"), pk=pk
    )


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _with_row_data(queryset):
    """What a list row shows, in a constant number of queries: the main thumbnail and whether an
    edit waits for review (subqueries), and the active variants (one prefetch)."""
    first_thumbnail = (
        ProductImage.objects.filter(product=OuterRef("pk"))
        .order_by("position", "id")
        .values("thumbnail")[:1]
    )
    pending_revision = ProductRevision.objects.filter(
        product=OuterRef("pk"), status=ProductRevision.Status.PENDING_REVIEW
    )
    return (
        queryset.select_related("category")
        .annotate(
            thumbnail_name=Subquery(first_thumbnail), has_pending_revision=Exists(pending_revision)
        )
        .prefetch_related(
            Prefetch(
                "skus",
                queryset=SKU.objects.filter(is_active=True).order_by("position", "id"),
                to_attr="active_skus",
            )
        )
    )


def _prepare_row(product: Product, *, bound_form: SkuPriceStockForm | None = None, sku_id=None):
    product.thumbnail_url = (
        default_storage.url(product.thumbnail_name) if product.thumbnail_name else ""
    )
    product.badge_class = STATUS_BADGES.get(product.status, "badge")
    product.price_editable = product.status != ProductStatus.DELETED
    for sku in product.active_skus:
        sku.product = product  # the forms read the currency from it; no query
        if bound_form is not None and sku.pk == sku_id:
            sku.inline_form = bound_form
        else:
            sku.inline_form = SkuPriceStockForm(
                initial=SkuPriceStockForm.initial_from(sku),
                currency=product.currency,
                auto_id=f"sku{sku.pk}_%s",
            )
    return product


def _descendant_ids(category_id: int, parents: dict[int, int | None]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, queue = set(), [category_id]
    while queue:
        current = queue.pop()
        if current in found:
            continue
        found.add(current)
        queue.extend(children.get(current, []))
    return found


@products_view
@require_safe
def product_list(request):
    tab = TABS_BY_KEY.get(request.GET.get("status", ""), TABS[0])
    # NUL cannot be in a PostgreSQL string: a pasted one would fail the query, not match nothing.
    query = " ".join(request.GET.get("q", "").replace("\x00", "").split())[:100]
    category_param = request.GET.get("category", "")

    products = _seller_products(request)
    if query:
        sku_match = SKU.objects.filter(product=OuterRef("pk"), seller_sku__icontains=query)
        products = products.filter(Q(title__icontains=query) | Exists(sku_match))
    category_labels = category_choice_labels()
    try:
        # Not str.isdigit(): it accepts "²", which int() refuses.
        category_id = int(category_param)
    except ValueError:
        category_id = None
    if category_id in category_labels:
        parents = dict(Category.objects.values_list("id", "parent_id"))
        products = products.filter(category_id__in=_descendant_ids(category_id, parents))
    else:
        category_id = None

    counts_by_status = dict(
        products.order_by()
        .values_list("status")
        .annotate(count=Count("id"))
        .values_list("status", "count")
    )
    tabs = [
        {
            "tab": each,
            "count": sum(counts_by_status.get(status, 0) for status in each.statuses),
            "active": each.key == tab.key,
            "query_string": urlencode(
                {
                    key: value
                    for key, value in (
                        ("status", each.key),
                        ("q", query),
                        ("category", category_id or ""),
                    )
                    if value
                }
            ),
        }
        for each in TABS
    ]

    listed = _with_row_data(products.filter(status__in=tab.statuses)).order_by("-created_at", "-id")
    page_obj = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_prepare_row(product) for product in page_obj.object_list]
    filters = {"status": tab.key, "q": query, "category": category_id or ""}
    context = {
        "tabs": tabs,
        "tab": tab,
        "query": query,
        "category_id": category_id,
        "category_options": sorted(category_labels.items(), key=lambda item: item[1].lower()),
        "page_obj": page_obj,
        "rows": rows,
        "query_string": urlencode({key: value for key, value in filters.items() if value}),
        "is_filtered": bool(query or category_id),
        "next_url": request.get_full_path(),
    }
    return render(request, "catalog/seller_center/product_list.html", context)


def _submit_message(request, decision: ListingDecision) -> None:
    product = decision.product
    reasons = " ".join(reason["message"] for reason in decision.reasons)
    if product.status == ProductStatus.LIVE:
        messages.success(request, f"“{product.title}” passed the policy check and is live now.")
    elif product.status == ProductStatus.PENDING_REVIEW:
        messages.info(
            request,
            f"“{product.title}” is waiting for a reviewer, usually within two business days. "
            f"{reasons}",
        )
    else:
        messages.error(
            request,
            f"“{product.title}” was not approved: {reasons} See below how to fix it.",
        )


def _submit(request, product: Product, *, just_saved: bool = False) -> None:
    try:
        decision = listing_services.product_submit_for_review(product=product, actor=request.user)
    except listing_services.ListingNotAllowed as error:
        note = (
            " Your product is saved as a draft; submit it when you are ready." if just_saved else ""
        )
        messages.warning(request, error.message + note)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        _submit_message(request, decision)


def _apply_product_errors(error: InvalidProduct, form: ProductForm) -> list[str]:
    """Field errors onto the form; variant-set errors returned for the formset."""
    variant_errors = []
    for field, problems in error.field_errors.items():
        if field in form.fields:
            for problem in problems:
                form.add_error(field, problem)
        else:
            variant_errors.extend(problems)
    return variant_errors


def _add_images(request, product: Product, uploads) -> None:
    for upload in uploads:
        try:
            image_services.product_image_add(product=product, upload=upload, actor=request.user)
        except DomainError as error:
            messages.warning(request, f"{upload.name} was not added: {error.message}")


@products_view
@require_http_methods(["GET", "HEAD", "POST"])
def product_create_view(request):
    seller = request.seller
    form = ProductForm(request.POST or None, request.FILES or None, with_images=True)
    formset = VariantFormSet(
        request.POST or None, prefix="variants", form_kwargs={"currency": None}
    )
    variant_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            product = product_create(
                seller=seller,
                skus=formset.sku_inputs(),
                actor=request.user,
                **form.content_values(),
            )
        except InvalidProduct as error:
            variant_errors = _apply_product_errors(error, form)
        else:
            _add_images(request, product, form.cleaned_data.get("images") or [])
            if request.POST.get("intent") == "submit":
                _submit(request, product, just_saved=True)
            else:
                messages.success(
                    request, f"“{product.title}” is saved as a draft. Submit it when it is ready."
                )
            return redirect("seller_products:detail", pk=product.pk)
    context = {
        "form": form,
        "formset": formset,
        "variant_errors": variant_errors,
        "is_create": True,
        "currency": settings.MARKETPLACE_CURRENCY,
        "missing": _missing_prerequisites(seller),
    }
    return render(request, "catalog/seller_center/product_form.html", context)


def _missing_prerequisites(seller):
    return [item for item in seller_listing_prerequisites(seller=seller) if not item.done]


def _pending_revision(product: Product) -> ProductRevision | None:
    return (
        ProductRevision.objects.filter(
            product=product, status=ProductRevision.Status.PENDING_REVIEW
        )
        .order_by("-created_at", "-id")
        .first()
    )


@products_view
@require_http_methods(["GET", "HEAD", "POST"])
def product_edit(request, pk: int):
    product = _seller_product_or_404(request, pk)
    if "edit" not in listing_services.product_seller_actions(product):
        messages.error(
            request, f"A product that is {product.get_status_display().lower()} cannot be edited."
        )
        return redirect("seller_products:detail", pk=product.pk)
    in_place = product.status in listing_services.EDITABLE_IN_PLACE
    pending = None if in_place else _pending_revision(product)
    if pending is not None:
        # Saving again replaces the edit under review, so the form continues from it.
        shown = listing_services.revision_snapshot_display(pending)
        initial = {
            "title": shown["title"],
            "description": shown["description"],
            "category": pending.snapshot.get("category_id"),
            "brand_name": shown["brand"],
            "attributes_text": "\n".join(f"{k}: {v}" for k, v in shown["attributes"].items()),
        }
    else:
        shown = None
        initial = ProductForm.initial_from(product)
    form = ProductForm(request.POST or None, initial=initial)
    formset = None
    if in_place:
        skus = list(product.skus.filter(is_active=True).order_by("position", "id"))
        for sku in skus:
            sku.product = product
        formset = VariantFormSet(
            request.POST or None,
            prefix="variants",
            initial=[VariantForm.initial_from(sku) for sku in skus],
            form_kwargs={"currency": product.currency},
        )
    variant_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and (formset is None or formset.is_valid()):
        try:
            result = listing_services.product_update(
                product=product,
                actor=request.user,
                skus=formset.sku_inputs() if formset is not None else None,
                **form.content_values(),
            )
        except InvalidProduct as error:
            variant_errors = _apply_product_errors(error, form)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            _update_message(request, result)
            if result.outcome == "saved" and request.POST.get("intent") == "submit":
                _submit(request, result.product, just_saved=True)
            return redirect("seller_products:detail", pk=product.pk)
    context = {
        "product": product,
        "form": form,
        "formset": formset,
        "variant_errors": variant_errors,
        "is_create": False,
        "in_place": in_place,
        "pending_revision": pending,
        "pending_shown": shown,
        "currency": product.currency,
    }
    return render(request, "catalog/seller_center/product_form.html", context)


def _update_message(request, result: listing_services.ProductUpdateResult) -> None:
    title = result.product.title
    if result.outcome == "saved":
        messages.success(request, f"“{title}” is saved.")
    elif result.outcome == "unchanged":
        messages.info(
            request, "Nothing changed, so there is nothing to review; the version on sale stays."
        )
    elif result.outcome == ProductRevision.Status.APPROVED:
        messages.success(request, "Your edit passed the policy check and is live now.")
    elif result.outcome == ProductRevision.Status.PENDING_REVIEW:
        messages.info(
            request,
            "Your edit is waiting for a reviewer. The current version stays on sale until the "
            "edit is approved.",
        )
    else:
        reasons = " ".join(reason["message"] for reason in result.decision.reasons)
        messages.error(
            request,
            f"Your edit was not approved: {reasons} The current version stays on sale unchanged.",
        )


@products_view
@require_safe
def product_detail(request, pk: int):
    product = _seller_product_or_404(request, pk)
    actions = listing_services.product_seller_actions(product)
    decisions = list(
        ListingDecision.objects.filter(product=product)
        .select_related("revision")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    latest_product_decision = next((d for d in decisions if d.revision_id is None), None)
    latest_revision = (
        ProductRevision.objects.filter(product=product).order_by("-created_at", "-id").first()
    )
    pending = (
        latest_revision
        if latest_revision and latest_revision.status == ProductRevision.Status.PENDING_REVIEW
        else None
    )
    rejected_revision = (
        latest_revision
        if latest_revision and latest_revision.status == ProductRevision.Status.REJECTED
        else None
    )
    rejected_revision_decision = (
        next((d for d in decisions if d.revision_id == rejected_revision.pk), None)
        if rejected_revision
        else None
    )
    for decision in decisions:
        decision.reason_items = [_reason_item(reason) for reason in decision.reasons]
    skus = list(product.skus.filter(is_active=True).order_by("position", "id"))
    for sku in skus:
        sku.product = product
        sku.inline_form = SkuPriceStockForm(
            initial=SkuPriceStockForm.initial_from(sku),
            currency=product.currency,
            auto_id=f"sku{sku.pk}_%s",
        )
    needs_gate = bool({"submit", "reactivate"} & actions)
    context = {
        "product": product,
        "badge_class": STATUS_BADGES.get(product.status, "badge"),
        "actions": [(name, ACTION_LABELS[name]) for name in ACTION_LABELS if name in actions],
        "can_edit": "edit" in actions,
        "decisions": decisions,
        "rejection": latest_product_decision
        if product.status == ProductStatus.REJECTED
        and latest_product_decision
        and latest_product_decision.outcome == ListingDecision.Outcome.REJECTED
        else None,
        "pending_revision": pending,
        "pending_shown": listing_services.revision_snapshot_display(pending) if pending else None,
        "rejected_revision_decision": rejected_revision_decision,
        "events": ProductStatusEvent.objects.filter(product=product)
        .select_related("actor")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT],
        "skus": skus,
        "images": list(ProductImage.objects.filter(product=product).order_by("position", "id")),
        "image_form": ImageUploadForm(),
        "max_images": image_services.MAX_IMAGES_PER_PRODUCT,
        "missing": _missing_prerequisites(product.seller) if needs_gate else [],
        "price_range": _price_range(product),
        "description_html": render_markdown(product.description),
    }
    return render(request, "catalog/seller_center/product_detail.html", context)


# Reasons a seller fixes somewhere other than the product form.
FIX_PAGES = {
    ReasonCode.CATEGORY_NEEDS_QUALIFICATION: (
        "seller_center:qualifications",
        "Upload a qualification",
    ),
    ReasonCode.BRAND_NOT_AUTHORIZED: (
        "seller_center:qualifications",
        "Upload a brand authorization",
    ),
}


def _reason_item(reason: dict) -> dict:
    fix = FIX_PAGES.get(reason.get("code", ""))
    return {
        **reason,
        "fix_url": reverse(fix[0]) if fix else "",
        "fix_label": fix[1] if fix else "",
    }


def _price_range(product: Product) -> str:
    if not product.price_max_minor:
        return ""
    low = Money(product.price_min_minor, product.currency).format()
    if product.price_min_minor == product.price_max_minor:
        return low
    return f"{low} to {Money(product.price_max_minor, product.currency).format()}"


ACTION_SERVICES = {
    "deactivate": (listing_services.product_deactivate, "“{title}” is off sale now."),
    "reactivate": (listing_services.product_reactivate, "“{title}” is on sale again."),
    "delete": (
        listing_services.product_delete,
        "“{title}” is deleted. You can restore it from the Deleted tab.",
    ),
    "restore": (
        listing_services.product_restore,
        "“{title}” is restored as a draft. Submit it for review to sell it again.",
    ),
}


@products_view
@require_POST
def product_action(request, pk: int, action: str):
    product = _seller_product_or_404(request, pk)
    detail_url = reverse("seller_products:detail", args=[product.pk])
    if action == "submit":
        _submit(request, product)
        return redirect(detail_url)
    if action == "duplicate":
        try:
            copy = listing_services.product_duplicate(product=product, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(detail_url)
        messages.success(
            request, f"Copied to a new draft, “{copy.title}”. Change what differs, then submit it."
        )
        return redirect("seller_products:edit", pk=copy.pk)
    if action not in ACTION_SERVICES:
        raise Http404("No such action.")
    service, message = ACTION_SERVICES[action]
    try:
        service(product=product, actor=request.user)
    except listing_services.ListingNotAllowed as error:
        messages.warning(request, error.message)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, message.format(title=product.title))
    return redirect(_safe_next(request, detail_url))


# --- Images ------------------------------------------------------------------------------------


@products_view
@require_POST
def image_add(request, pk: int):
    product = _seller_product_or_404(request, pk)
    detail_url = reverse("seller_products:detail", args=[product.pk])
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for error in form.errors.get("images", []):
            messages.error(request, error)
        return redirect(_safe_next(request, detail_url))
    added = 0
    for upload in form.cleaned_data["images"]:
        try:
            image_services.product_image_add(product=product, upload=upload, actor=request.user)
        except DomainError as error:
            messages.error(request, f"{upload.name}: {error.message}")
        else:
            added += 1
    if added:
        messages.success(request, f"Added {added} image{'s' if added != 1 else ''}.")
    return redirect(_safe_next(request, detail_url))


@products_view
@require_POST
def image_remove(request, pk: int, image_id: int):
    product = _seller_product_or_404(request, pk)
    try:
        image_services.product_image_remove(product=product, image_id=image_id, actor=request.user)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404(error.message) from None
        messages.error(request, error.message)
    else:
        messages.success(request, "The image is removed.")
    return redirect(_safe_next(request, reverse("seller_products:detail", args=[product.pk])))


@products_view
@require_POST
def image_move(request, pk: int, image_id: int):
    product = _seller_product_or_404(request, pk)
    offset = {"earlier": -1, "later": 1, "first": -100}.get(request.POST.get("direction", ""))
    if offset is None:
        raise Http404("No such direction.")
    try:
        image_services.product_image_move(
            product=product, image_id=image_id, offset=offset, actor=request.user
        )
    except DomainError as error:
        if error.code == "not_found":
            raise Http404(error.message) from None
        messages.error(request, error.message)
    else:
        messages.success(request, "The image order is saved.")
    return redirect(_safe_next(request, reverse("seller_products:detail", args=[product.pk])))


# --- Inline price and stock --------------------------------------------------------------------


@products_view
@require_POST
def sku_update(request, pk: int, sku_id: int):
    """One variant's price and stock. With htmx (HX-Request), answers the product's list row,
    re-rendered (with the errors next to the inputs when refused); without JavaScript, saves and
    redirects back to the page the form was on with a message."""
    product = _seller_product_or_404(request, pk)
    if not SKU.objects.filter(pk=sku_id, product=product, is_active=True).exists():
        raise Http404("No such variant.")
    form = SkuPriceStockForm(request.POST, currency=product.currency, auto_id=f"sku{sku_id}_%s")
    saved = False
    if form.is_valid():
        try:
            listing_services.sku_update_price_and_stock(
                product=product,
                sku_id=sku_id,
                price_minor=form.cleaned_data["price"],
                stock_on_hand=form.cleaned_data["stock_on_hand"],
                actor=request.user,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            saved = True
    if request.htmx:
        row = _with_row_data(_seller_products(request).filter(pk=product.pk)).get()
        _prepare_row(row, bound_form=None if saved else form, sku_id=sku_id)
        row.saved_sku_id = sku_id if saved else None
        next_url = _safe_next(request, reverse("seller_products:list"))
        return render(
            request,
            "catalog/seller_center/_product_row.html",
            {"product": row, "next_url": next_url},
        )
    if saved:
        messages.success(request, f"Price and stock saved for “{product.title}”.")
    else:
        problems = [error for errors in form.errors.values() for error in errors]
        messages.error(request, "Not saved: " + " ".join(problems))
    return redirect(_safe_next(request, reverse("seller_products:list")))
