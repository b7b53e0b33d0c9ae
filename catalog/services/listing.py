"""Listing review: submitting a product, the screening decision, staff review, edits of live
products (revisions), and the seller's own status actions (deactivate, delete, restore, duplicate).

Every status change goes through `product_transition`; every review outcome, automatic or by a
person, writes a ListingDecision with its reasons, so the seller and staff read one history.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from catalog.models import (
    PRODUCT_REVISION_MACHINE,
    SKU,
    Brand,
    ListingDecision,
    Product,
    ProductRevision,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services.products import (
    MAX_STORED_INTEGER,
    MAX_TITLE_LENGTH,
    InvalidProduct,
    SkuInput,
    brand_for_name,
    product_content_errors,
    product_create,
    product_refresh_listing_fields,
    product_transition,
    sku_set_errors,
)
from marketplace.errors import DomainError, IllegalTransition
from marketplace.notifications.services import notify
from marketplace.state import transition, transition_many
from policies.models import Category
from policies.screening import ListingFacts, ScreeningDecision, screen_listing
from policies.selectors import screening_rules_load
from sellers.credentials import seller_screening_credentials
from sellers.models import Seller
from sellers.prerequisites import Prerequisite, seller_listing_prerequisites

SCREENING_RULE = "screening"
# Statuses whose content the seller edits in place; anything that has been on sale goes through a
# revision instead, so what buyers see has always passed review.
EDITABLE_IN_PLACE = frozenset({ProductStatus.DRAFT, ProductStatus.REJECTED})
EDITABLE_BY_REVISION = frozenset({ProductStatus.LIVE, ProductStatus.SELLER_DEACTIVATED})
SUBMITTABLE = frozenset({ProductStatus.DRAFT, ProductStatus.REJECTED})


class ListingNotAllowed(DomainError):
    """The seller has not finished the steps that listing needs. `missing` holds the checklist
    items still to do (label and the Seller Center page that fixes each)."""

    code = "listing_not_allowed"

    def __init__(self, missing: list[Prerequisite]):
        self.missing = missing
        steps = "; ".join(item.label for item in missing)
        super().__init__(f"You cannot list products yet. Finish these steps first: {steps}.")


class ListingError(DomainError):
    code = "listing_error"


class ReasonRequired(DomainError):
    code = "reason_required"


# --- Screening ---------------------------------------------------------------------------------


def _screen(*, seller: Seller, title: str, description: str, category_id, brand_name: str):
    facts = ListingFacts(
        title=title, description=description, category_id=category_id, brand=brand_name or ""
    )
    return screen_listing(
        listing=facts,
        rules=screening_rules_load(),
        credentials=seller_screening_credentials(seller=seller),
    )


def screening_reasons_as_dicts(decision: ScreeningDecision) -> list[dict[str, str]]:
    return [
        {
            "code": reason.code,
            "message": reason.message,
            "suggestion": reason.suggestion,
            "field": reason.field,
        }
        for reason in decision.reasons
    ]


_OUTCOMES = {
    "approve": ListingDecision.Outcome.APPROVED,
    "review": ListingDecision.Outcome.MANUAL_REVIEW,
    "reject": ListingDecision.Outcome.REJECTED,
}


def _staff_reasons(reasons: list[str]) -> list[dict[str, str]]:
    cleaned = [" ".join(reason.split()) for reason in reasons or [] if reason and reason.strip()]
    if not cleaned:
        raise ReasonRequired("Give the seller at least one reason for the rejection.")
    return [
        {"code": "staff_review", "message": reason, "suggestion": "", "field": ""}
        for reason in cleaned
    ]


# --- Submitting for review ---------------------------------------------------------------------


def product_submit_for_review(*, product: Product, actor) -> ListingDecision:
    """Screen a draft or rejected product and move it on: approved goes live, held goes to the
    manual review queue (pending_review), refused goes to rejected with the reasons and
    suggestions. Returns the decision written.

    Raises ListingNotAllowed (the checklist items still to do), IllegalTransition (not a draft or
    rejected product) or ListingError (no active variant); nothing is written then.
    """
    missing = [
        item for item in seller_listing_prerequisites(seller=product.seller) if not item.done
    ]
    if missing:
        raise ListingNotAllowed(missing)
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.status not in SUBMITTABLE:
            raise IllegalTransition(
                f"Only drafts and rejected products can be submitted; this one is "
                f"{locked.get_status_display().lower()}."
            )
        if not locked.skus.filter(is_active=True).exists():
            raise ListingError("Add at least one variant with a price and stock before submitting.")
        decision = _screen(
            seller=product.seller,
            title=locked.title,
            description=locked.description,
            category_id=locked.category_id,
            brand_name=locked.brand.name if locked.brand_id else "",
        )
        record = ListingDecision.objects.create(
            product=locked,
            outcome=_OUTCOMES[decision.outcome],
            rule=SCREENING_RULE,
            reasons=screening_reasons_as_dicts(decision),
        )
        product_transition(
            product_id=locked.pk,
            to_status=ProductStatus.PENDING_REVIEW,
            actor=actor,
            message="Submitted for review",
        )
        if decision.is_rejected:
            product_transition(
                product_id=locked.pk,
                to_status=ProductStatus.REJECTED,
                actor=actor,
                message="Refused by the automatic screening: "
                + " ".join(reason.message for reason in decision.reject_reasons),
            )
        elif decision.is_approved:
            product_transition(
                product_id=locked.pk,
                to_status=ProductStatus.LIVE,
                actor=actor,
                message="Approved by the automatic screening",
            )
        # "review": it waits in the staff queue as pending_review.
    product.refresh_from_db()
    record.product = product
    return record


def _pending_product_for_update(product_id: int) -> Product:
    product = (
        Product.objects.select_for_update(of=("self",))
        .select_related("seller", "seller__owner")
        .filter(pk=product_id)
        .first()
    )
    if product is None:
        raise ListingError("No such product.", code="not_found")
    if product.status != ProductStatus.PENDING_REVIEW:
        raise IllegalTransition(
            f"Only products pending review can be decided; “{product.title}” is "
            f"{product.get_status_display().lower()}."
        )
    return product


def product_review_approve(*, product_id: int, actor) -> Product:
    """Staff: put a product waiting for manual review live; the seller's owner is emailed once
    committed. Raises IllegalTransition unless it is pending review."""
    with transaction.atomic():
        product = _pending_product_for_update(product_id)
        decision = ListingDecision.objects.create(
            product=product, outcome=ListingDecision.Outcome.APPROVED, decided_by=actor
        )
        product = product_transition(
            product_id=product.pk,
            to_status=ProductStatus.LIVE,
            actor=actor,
            message="Approved by a reviewer",
        )
        _notify_decision(product, decision)
    return product


def product_review_reject(*, product_id: int, actor, reasons: list[str]) -> Product:
    """Staff: reject a product waiting for manual review with at least one reason; the seller's
    owner is emailed them once committed. Raises ReasonRequired or IllegalTransition (nothing
    written)."""
    reason_dicts = _staff_reasons(reasons)
    with transaction.atomic():
        product = _pending_product_for_update(product_id)
        decision = ListingDecision.objects.create(
            product=product,
            outcome=ListingDecision.Outcome.REJECTED,
            decided_by=actor,
            reasons=reason_dicts,
        )
        product = product_transition(
            product_id=product.pk,
            to_status=ProductStatus.REJECTED,
            actor=actor,
            message="Rejected by a reviewer: " + " ".join(r["message"] for r in reason_dicts),
        )
        _notify_decision(product, decision)
    return product


def _notify_decision(product: Product, decision: ListingDecision) -> None:
    """Email the seller's owner a reviewer's decision on a product or on an edit of it."""
    owner = Seller.objects.select_related("owner").get(pk=product.seller_id).owner
    outcome = "approved" if decision.outcome == ListingDecision.Outcome.APPROVED else "rejected"
    target = "revision" if decision.revision_id else "product"
    notify(
        kind=f"catalog.listing_{target}_{outcome}",
        key=f"listing-decision:{decision.pk}",
        to_email=owner.email,
        user=owner,
        about=f"product:{product.pk}",
        subject_template=f"catalog/email/listing_{target}_{outcome}_subject.txt",
        body_template=f"catalog/email/listing_{target}_{outcome}.txt",
        context={
            "title": product.title,
            "reasons": [reason["message"] for reason in decision.reasons or []],
        },
    )


# --- Editing: in place for drafts, by revision once on sale -------------------------------------


@dataclass(frozen=True)
class ProductUpdateResult:
    """What an edit did: saved in place (revision None), or a revision with its decision."""

    product: Product
    revision: ProductRevision | None = None
    decision: ListingDecision | None = None

    unchanged: bool = False

    @property
    def outcome(self) -> str:
        """One of: saved; unchanged (an edit of a live product identical to it); or, for a
        revision, approved, pending_review or rejected."""
        if self.unchanged:
            return "unchanged"
        return "saved" if self.revision is None else self.revision.status


def product_update(
    *,
    product: Product,
    actor,
    title: str,
    description: str,
    category: Category,
    brand_name: str = "",
    attributes: dict | None = None,
    skus: list[SkuInput] | None = None,
) -> ProductUpdateResult:
    """Edit a product's content. A draft or rejected product changes in place (and, when `skus`
    is given, its variant set too). A live or deactivated product keeps its approved content on
    sale: the edit becomes a revision, screened at once: refused (the product is untouched),
    approved (applied now), or held for a reviewer (replacing any older edit still waiting).

    Raises InvalidProduct (per field), IllegalTransition for a status that cannot be edited, or
    ListingError when variants are changed on a product that is on sale; nothing written then.
    """
    title = " ".join((title or "").split())
    # Browsers send textarea line breaks as CRLF; store one form, so equal text compares equal.
    description = (description or "").replace("\r\n", "\n").strip()
    attributes = attributes or {}
    errors = product_content_errors(title=title, category=category)
    if skus is not None and product.status in EDITABLE_IN_PLACE:
        errors.update(sku_set_errors(skus))
    if errors:
        raise InvalidProduct(errors)
    if product.status in EDITABLE_IN_PLACE:
        with transaction.atomic():
            locked = Product.objects.select_for_update().get(pk=product.pk)
            if locked.status not in EDITABLE_IN_PLACE:
                raise IllegalTransition("The product changed status meanwhile; reload the page.")
            if skus is not None:
                _skus_replace(product=locked, skus=skus)
            locked.title = title
            locked.description = description
            locked.category = category
            locked.brand = brand_for_name(brand_name)
            locked.attributes = attributes
            locked.save(
                update_fields=[
                    "title",
                    "description",
                    "category",
                    "brand",
                    "attributes",
                    "updated_at",
                ]
            )
            product_refresh_listing_fields(product=locked)
        return ProductUpdateResult(product=locked)

    if product.status not in EDITABLE_BY_REVISION:
        raise IllegalTransition(
            f"A product that is {product.get_status_display().lower()} cannot be edited."
        )
    if skus is not None:
        raise ListingError(
            "The variants of a product on sale cannot be replaced; change prices and stock "
            "from the product list, or duplicate the product to list new variants."
        )
    return _revision_create(
        product=product,
        actor=actor,
        title=title,
        description=description,
        category=category,
        brand_name=brand_name,
        attributes=attributes,
    )


def _pending_revisions_supersede(*, product: Product) -> None:
    """Retire the edit of `product` waiting for review, if any (at most one, a constraint)."""
    transition_many(
        PRODUCT_REVISION_MACHINE,
        where=Q(product=product),
        from_status=ProductRevision.Status.PENDING_REVIEW,
        to_status=ProductRevision.Status.SUPERSEDED,
    )


def _revision_create(
    *, product, actor, title, description, category, brand_name, attributes
) -> ProductUpdateResult:
    brand = brand_for_name(brand_name)
    snapshot = {
        "title": title,
        "description": description,
        "category_id": category.pk,
        "brand_id": brand.pk if brand else None,
        "attributes": attributes,
    }
    decision = _screen(
        seller=product.seller,
        title=title,
        description=description,
        category_id=category.pk,
        brand_name=brand.name if brand else "",
    )
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.status not in EDITABLE_BY_REVISION:
            raise IllegalTransition("The product changed status meanwhile; reload the page.")
        if snapshot == _live_snapshot(locked):
            # Saving the live content back is no edit to review; it withdraws a pending one.
            _pending_revisions_supersede(product=locked)
            return ProductUpdateResult(product=locked, unchanged=True)
        # The newest edit is the seller's intent: an older one still waiting is retired first, so
        # the one-pending-revision constraint holds and a reviewer never approves stale content.
        _pending_revisions_supersede(product=locked)
        status = {
            "approve": ProductRevision.Status.APPROVED,
            "review": ProductRevision.Status.PENDING_REVIEW,
            "reject": ProductRevision.Status.REJECTED,
        }[decision.outcome]
        revision = ProductRevision.objects.create(
            product=locked, status=status, snapshot=snapshot, created_by=actor
        )
        record = ListingDecision.objects.create(
            product=locked,
            revision=revision,
            outcome=_OUTCOMES[decision.outcome],
            rule=SCREENING_RULE,
            reasons=screening_reasons_as_dicts(decision),
        )
        if decision.is_approved:
            _revision_apply(product=locked, revision=revision)
    return ProductUpdateResult(product=locked, revision=revision, decision=record)


def _live_snapshot(product: Product) -> dict:
    return {
        "title": product.title,
        "description": product.description,
        "category_id": product.category_id,
        "brand_id": product.brand_id,
        "attributes": product.attributes or {},
    }


def _revision_apply(*, product: Product, revision: ProductRevision) -> None:
    snapshot = revision.snapshot
    product.title = snapshot["title"]
    product.description = snapshot["description"]
    product.category_id = snapshot["category_id"]
    product.brand_id = snapshot["brand_id"]
    product.attributes = snapshot.get("attributes") or {}
    product.save(
        update_fields=["title", "description", "category", "brand", "attributes", "updated_at"]
    )
    product_refresh_listing_fields(product=product)


def revision_snapshot_display(revision: ProductRevision) -> dict:
    """The snapshot with names instead of ids, for people (Seller Center banner, admin diff)."""
    snapshot = revision.snapshot
    category = Category.objects.filter(pk=snapshot.get("category_id")).first()
    brand = Brand.objects.filter(pk=snapshot.get("brand_id")).first()
    return {
        "title": snapshot.get("title", ""),
        "description": snapshot.get("description", ""),
        "category": category.name if category else "",
        "brand": brand.name if brand else "",
        "attributes": snapshot.get("attributes") or {},
    }


def _pending_revision_for_update(revision_id: int) -> ProductRevision:
    revision = (
        ProductRevision.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk=revision_id)
        .first()
    )
    if revision is None:
        raise ListingError("No such revision.", code="not_found")
    if revision.status != ProductRevision.Status.PENDING_REVIEW:
        raise IllegalTransition(
            f"This edit is {revision.get_status_display().lower()}; only edits pending review "
            "can be decided."
        )
    return revision


def revision_approve(*, revision_id: int, actor) -> ProductRevision:
    """Staff: apply a pending edit to its product and email the seller's owner once committed.
    Raises IllegalTransition unless the revision is pending review and its product is live or
    paused by the seller."""
    with transaction.atomic():
        revision = _pending_revision_for_update(revision_id)
        product = Product.objects.select_for_update().get(pk=revision.product_id)
        if product.status not in EDITABLE_BY_REVISION:
            # A takedown leaves the edit waiting (an upheld appeal brings the product back), but
            # the content of a product the platform took down is not changed meanwhile.
            raise IllegalTransition(
                f"The product is {product.get_status_display().lower()} now; its edit can be "
                "decided once it is back on sale or paused by the seller."
            )
        transition(
            PRODUCT_REVISION_MACHINE, instance=revision, to_status=ProductRevision.Status.APPROVED
        )
        decision = ListingDecision.objects.create(
            product=product,
            revision=revision,
            outcome=ListingDecision.Outcome.APPROVED,
            decided_by=actor,
        )
        _revision_apply(product=product, revision=revision)
        _notify_decision(product, decision)
    return revision


def revision_reject(*, revision_id: int, actor, reasons: list[str]) -> ProductRevision:
    """Staff: refuse a pending edit (the live version stays as it is) with at least one reason,
    emailed to the seller's owner once committed. Raises ReasonRequired or IllegalTransition."""
    reason_dicts = _staff_reasons(reasons)
    with transaction.atomic():
        revision = _pending_revision_for_update(revision_id)
        transition(
            PRODUCT_REVISION_MACHINE, instance=revision, to_status=ProductRevision.Status.REJECTED
        )
        decision = ListingDecision.objects.create(
            product=revision.product,
            revision=revision,
            outcome=ListingDecision.Outcome.REJECTED,
            decided_by=actor,
            reasons=reason_dicts,
        )
        product = revision.product
        _notify_decision(product, decision)
    return revision


# --- Seller status actions ---------------------------------------------------------------------


def _locked_in(product: Product, allowed: set[str], verb: str) -> Product:
    locked = Product.objects.select_for_update().get(pk=product.pk)
    if locked.status not in allowed:
        raise IllegalTransition(
            f"A product that is {locked.get_status_display().lower()} cannot be {verb}."
        )
    return locked


def product_deactivate(*, product: Product, actor) -> Product:
    """Take a live product off sale; the seller can reactivate it without a new review."""
    return product_transition(
        product_id=product.pk,
        to_status=ProductStatus.SELLER_DEACTIVATED,
        actor=actor,
        message="Deactivated by the seller",
    )


def product_reactivate(*, product: Product, actor) -> Product:
    """Put a product the seller deactivated back on sale. Never one the platform took down (that
    is staff's decision), and only while the seller may list. Raises ListingNotAllowed or
    IllegalTransition."""
    missing = [
        item for item in seller_listing_prerequisites(seller=product.seller) if not item.done
    ]
    if missing:
        raise ListingNotAllowed(missing)
    with transaction.atomic():
        _locked_in(product, {ProductStatus.SELLER_DEACTIVATED}, "reactivated")
        return product_transition(
            product_id=product.pk,
            to_status=ProductStatus.LIVE,
            actor=actor,
            message="Reactivated by the seller",
        )


def product_delete(*, product: Product, actor) -> Product:
    """Soft-delete: hidden everywhere, restorable as a draft. An edit waiting for review is
    retired with it."""
    with transaction.atomic():
        deleted = product_transition(
            product_id=product.pk,
            to_status=ProductStatus.DELETED,
            actor=actor,
            message="Deleted by the seller",
        )
        _pending_revisions_supersede(product=deleted)
    return deleted


def product_can_be_restored(product: Product) -> bool:
    """A deleted product comes back as a draft, unless the platform had taken it down: deleting
    and restoring must not be a way round a takedown."""
    if product.status != ProductStatus.DELETED:
        return False
    last_deletion = (
        ProductStatusEvent.objects.filter(product=product, to_status=ProductStatus.DELETED)
        .order_by("-created_at", "-id")
        .values_list("from_status", flat=True)
        .first()
    )
    return last_deletion != ProductStatus.PLATFORM_DEACTIVATED


def product_restore(*, product: Product, actor) -> Product:
    """Bring a deleted product back as a draft (to be submitted again). Raises IllegalTransition
    when it is not deleted or was taken down by the platform before deletion."""
    with transaction.atomic():
        locked = _locked_in(product, {ProductStatus.DELETED}, "restored")
        if not product_can_be_restored(locked):
            raise IllegalTransition(
                "This product was taken down by the platform before it was deleted, so it "
                "cannot be restored."
            )
        return product_transition(
            product_id=product.pk,
            to_status=ProductStatus.DRAFT,
            actor=actor,
            message="Restored by the seller",
        )


COPY_SUFFIX = "-COPY"


def product_can_be_duplicated(product: Product) -> bool:
    """Any product can be copied, except one the platform took down (or deleted after a
    takedown): a copy is a fresh draft that screening may put live, which would undo the
    takedown just as restoring it would."""
    if product.status == ProductStatus.PLATFORM_DEACTIVATED:
        return False
    return product.status != ProductStatus.DELETED or product_can_be_restored(product)


def product_duplicate(*, product: Product, actor) -> Product:
    """A new draft with the same content, variants (SKU codes suffixed "-COPY") and images.
    Raises IllegalTransition (nothing written) for a product the platform took down."""
    from catalog.services.images import product_images_copy  # images imports this module

    if not product_can_be_duplicated(product):
        raise IllegalTransition(
            "This product was taken down by the platform, so it cannot be copied. If you think "
            "the decision is wrong, appeal it."
        )

    skus = [
        SkuInput(
            seller_sku=sku.seller_sku[: 64 - len(COPY_SUFFIX)] + COPY_SUFFIX,
            price_minor=sku.price_minor,
            stock_on_hand=sku.stock_on_hand,
            option_values=dict(sku.option_values),
            compare_at_price_minor=sku.compare_at_price_minor,
            weight_grams=sku.weight_grams,
        )
        for sku in product.skus.filter(is_active=True)
    ]
    suffix = " (copy)"
    with transaction.atomic():
        copy = product_create(
            seller=product.seller,
            title=product.title[: MAX_TITLE_LENGTH - len(suffix)] + suffix,
            description=product.description,
            category=product.category,
            brand_name=product.brand.name if product.brand_id else "",
            attributes=dict(product.attributes or {}),
            skus=skus,
            actor=actor,
        )
        product_images_copy(source=product, target=copy)
    return copy


# --- Variants ----------------------------------------------------------------------------------


def sku_update_price_and_stock(
    *, product: Product, sku_id: int, price_minor: int, stock_on_hand: int, actor
) -> SKU:
    """Set one variant's price and stock; no review is needed for either. Raises ListingError
    (nothing written) for a variant of another product, a price below one minor unit, negative
    stock, or a price at or above the compare-at price."""
    errors = []
    if price_minor is None or price_minor < 1:
        errors.append("The price must be above zero.")
    if stock_on_hand is None or stock_on_hand < 0:
        errors.append("Stock cannot be negative.")
    if (price_minor or 0) > MAX_STORED_INTEGER or (stock_on_hand or 0) > MAX_STORED_INTEGER:
        errors.append("The price or the stock is too large.")
    if errors:
        raise ListingError(" ".join(errors), code="invalid_sku")
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        if locked.status == ProductStatus.DELETED:
            # A product in the bin is not for sale and its list row offers no price edit.
            raise IllegalTransition(
                "A deleted product's price and stock cannot be changed; restore it first."
            )
        sku = SKU.objects.select_for_update().filter(pk=sku_id, product=locked).first()
        if sku is None:
            raise ListingError("No such variant.", code="not_found")
        if sku.compare_at_price_minor is not None and sku.compare_at_price_minor <= price_minor:
            raise ListingError(
                "The price must stay below the compare-at price; lower the price or change the "
                "compare-at price on the edit page.",
                code="invalid_sku",
            )
        sku.price_minor = price_minor
        sku.stock_on_hand = stock_on_hand
        sku.save(update_fields=["price_minor", "stock_on_hand"])
        # The locked row, not the caller's copy: a stale title would overwrite the search text.
        product_refresh_listing_fields(product=locked)
    return sku


def _skus_replace(*, product: Product, skus: list[SkuInput]) -> None:
    """The caller has checked `skus` with sku_set_errors and holds the product's lock."""
    existing = {sku.seller_sku: sku for sku in product.skus.all()}
    wanted = set()
    for position, given in enumerate(skus):
        code = given.seller_sku.strip()
        wanted.add(code)
        values = {
            "option_values": given.option_values,
            "price_minor": given.price_minor,
            "compare_at_price_minor": given.compare_at_price_minor,
            "stock_on_hand": given.stock_on_hand,
            "weight_grams": given.weight_grams,
            "is_active": True,
            "position": position,
        }
        if code in existing:
            SKU.objects.filter(pk=existing[code].pk).update(**values)
        else:
            SKU.objects.create(product=product, seller_sku=code, **values)
    # Variants left out are switched off rather than deleted: a restored product's old variants
    # may be on past orders, and a code brought back later finds its row again.
    SKU.objects.filter(product=product).exclude(seller_sku__in=wanted).update(is_active=False)


def product_skus_replace(*, product: Product, skus: list[SkuInput], actor) -> Product:
    """Replace the variant set of a draft or rejected product (matched by SKU code; variants
    left out are deactivated). Raises InvalidProduct or IllegalTransition; nothing written."""
    errors = sku_set_errors(skus)
    if errors:
        raise InvalidProduct(errors)
    with transaction.atomic():
        locked = _locked_in(product, set(EDITABLE_IN_PLACE), "given new variants")
        _skus_replace(product=locked, skus=skus)
        product_refresh_listing_fields(product=locked)
    return locked


# --- What the seller may do now ----------------------------------------------------------------


def product_seller_actions(product: Product) -> frozenset[str]:
    """The status actions the Seller Center offers for `product` now. A read: the services above
    still check each one under lock."""
    status = product.status
    actions = {"duplicate"} if product_can_be_duplicated(product) else set()
    if status in SUBMITTABLE:
        actions.add("submit")
    if status == ProductStatus.LIVE:
        actions.add("deactivate")
    if status == ProductStatus.SELLER_DEACTIVATED:
        actions.add("reactivate")
    if product.can_transition_to(ProductStatus.DELETED):
        actions.add("delete")
    if status == ProductStatus.DELETED and product_can_be_restored(product):
        actions.add("restore")
    if status in EDITABLE_IN_PLACE or status in EDITABLE_BY_REVISION:
        actions.add("edit")
    return frozenset(actions)
