"""Listing review through the services: submitting and each screening outcome, staff decisions,
the seller's status actions (every legal and illegal one; a product the platform took down cannot
be copied), revisions of live products (never approved onto a product taken down meanwhile),
variants."""

import pytest

from catalog.models import (
    SKU,
    ListingDecision,
    Product,
    ProductImage,
    ProductRevision,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services import listing
from catalog.services.images import product_image_add
from catalog.services.ip_complaints import ip_complaint_uphold
from catalog.services.products import InvalidProduct, SkuInput, product_transition
from marketplace.errors import IllegalTransition
from policies.models import KeywordRule, PolicyStatus
from tests.accounts.factories import StaffUserFactory
from tests.catalog.factories import (
    approved_qualification,
    draft_product,
    file_complaint,
    image_upload,
    restricted_category,
    reviewed_live_product,
    taken_down_product,
)
from tests.policies.factories import CategoryFactory, KeywordRuleFactory
from tests.sellers.factories import ApprovedSellerFactory, ready_seller

pytestmark = pytest.mark.django_db


def statuses_of(product):
    return list(
        ProductStatusEvent.objects.filter(product=product)
        .order_by("created_at", "id")
        .values_list("from_status", "to_status")
    )


def force_status(product, status):
    Product.objects.filter(pk=product.pk).update(status=status)
    product.refresh_from_db()
    return product


# --- Submitting: each screening outcome ----------------------------------------------------------


def test_a_clean_listing_is_approved_by_screening_and_goes_live():
    product = draft_product()

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    assert product.published_at is not None
    assert decision.outcome == ListingDecision.Outcome.APPROVED
    assert decision.rule == "screening" and decision.decided_by is None
    assert statuses_of(product)[1:] == [
        ("draft", "pending_review"),
        ("pending_review", "live"),
    ]


def test_a_review_keyword_holds_the_listing_for_a_reviewer():
    KeywordRuleFactory(phrase="vintage", action=KeywordRule.Action.REVIEW, reason="Checked.")
    product = draft_product(title="Vintage linen shirt")

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert decision.outcome == ListingDecision.Outcome.MANUAL_REVIEW
    assert decision.reasons[0]["code"] == "keyword_needs_review"


def test_a_brand_without_authorization_waits_for_manual_review():
    product = draft_product(brand_name="Acme")

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert [reason["code"] for reason in decision.reasons] == ["brand_not_authorized"]


def test_an_authorized_brand_goes_live():
    seller = ready_seller()
    approved_qualification(seller=seller, brand_name="ACME ")
    product = draft_product(seller=seller, brand_name="acme")

    listing.product_submit_for_review(product=product, actor=seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE


def test_a_prohibited_category_is_rejected_with_reasons_and_suggestions():
    category = CategoryFactory(
        policy_status=PolicyStatus.PROHIBITED, policy_reason="Political merchandise is banned."
    )
    product = draft_product(title="Campaign cap", category=category)

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    assert decision.outcome == ListingDecision.Outcome.REJECTED
    [reason] = decision.reasons
    assert reason["code"] == "category_prohibited"
    assert reason["message"] == "Political merchandise is banned."
    assert reason["suggestion"]
    assert statuses_of(product)[1:] == [
        ("draft", "pending_review"),
        ("pending_review", "rejected"),
    ]


def test_a_blocked_keyword_is_rejected_at_once():
    KeywordRuleFactory(phrase="vote for", reason="Political slogans are not allowed.")
    product = draft_product(title="Vote for Smith 2028 campaign cap")

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    assert decision.reasons[0]["code"] == "keyword_blocked"
    assert "Political slogans" in decision.reasons[0]["message"]


def test_a_restricted_category_without_qualification_is_rejected_with_the_pointer_to_upload_one():
    product = draft_product(category=restricted_category(name="Cosmetics"))

    decision = listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    [reason] = decision.reasons
    assert reason["code"] == "category_needs_qualification"
    assert "Qualifications" in reason["suggestion"]


def test_a_restricted_category_with_an_approved_qualification_goes_live():
    seller = ready_seller()
    category = restricted_category()
    approved_qualification(seller=seller, category=category)
    product = draft_product(seller=seller, category=category)

    listing.product_submit_for_review(product=product, actor=seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE


def test_a_rejected_product_can_be_fixed_and_submitted_again():
    KeywordRuleFactory(phrase="replica designer")
    product = draft_product(title="Replica designer tote")
    listing.product_submit_for_review(product=product, actor=product.seller.owner)
    product.refresh_from_db()

    listing.product_update(
        product=product,
        actor=product.seller.owner,
        title="Waxed canvas tote",
        description="",
        category=product.category,
    )
    listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    assert product.decisions.count() == 2


def test_a_seller_that_is_not_ready_is_refused_with_the_checklist_and_nothing_is_written():
    seller = ApprovedSellerFactory()  # approved, but no addresses, shipping, payouts or policies
    product = draft_product(seller=seller)
    events_before = ProductStatusEvent.objects.count()

    with pytest.raises(listing.ListingNotAllowed) as error:
        listing.product_submit_for_review(product=product, actor=seller.owner)

    keys = {item.key for item in error.value.missing}
    assert {"ship_from_address", "return_address", "shipping_template", "payout_account"} <= keys
    assert "Ship-from address added" in error.value.message
    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT
    assert not ListingDecision.objects.exists()
    assert ProductStatusEvent.objects.count() == events_before


def test_a_product_without_an_active_variant_cannot_be_submitted():
    product = draft_product()
    SKU.objects.filter(product=product).update(is_active=False)

    with pytest.raises(listing.ListingError):
        listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.DRAFT
    assert not ListingDecision.objects.exists()


@pytest.mark.parametrize(
    "status",
    [
        ProductStatus.PENDING_REVIEW,
        ProductStatus.LIVE,
        ProductStatus.SELLER_DEACTIVATED,
        ProductStatus.PLATFORM_DEACTIVATED,
        ProductStatus.DELETED,
    ],
)
def test_only_drafts_and_rejected_products_can_be_submitted(status):
    product = force_status(draft_product(), status)

    with pytest.raises(IllegalTransition):
        listing.product_submit_for_review(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == status
    assert not ListingDecision.objects.exists()


# --- Seller actions: every status, legal or not --------------------------------------------------

ALL_STATUSES = list(ProductStatus.values)
SELLER_ACTIONS = {
    # service: (statuses it is legal from, the status it leads to)
    "product_deactivate": ({ProductStatus.LIVE}, ProductStatus.SELLER_DEACTIVATED),
    "product_reactivate": ({ProductStatus.SELLER_DEACTIVATED}, ProductStatus.LIVE),
    "product_delete": (
        {
            ProductStatus.DRAFT,
            ProductStatus.PENDING_REVIEW,
            ProductStatus.LIVE,
            ProductStatus.REJECTED,
            ProductStatus.SELLER_DEACTIVATED,
            ProductStatus.PLATFORM_DEACTIVATED,
        },
        ProductStatus.DELETED,
    ),
    "product_restore": ({ProductStatus.DELETED}, ProductStatus.DRAFT),
}


@pytest.mark.parametrize(
    ("service", "status"),
    [(service, status) for service in SELLER_ACTIONS for status in ALL_STATUSES],
)
def test_each_seller_action_is_legal_only_from_its_statuses(service, status):
    legal_from, leads_to = SELLER_ACTIONS[service]
    product = force_status(draft_product(), status)
    events_before = ProductStatusEvent.objects.filter(product=product).count()

    if status in legal_from:
        getattr(listing, service)(product=product, actor=product.seller.owner)
        product.refresh_from_db()
        assert product.status == leads_to
        event = ProductStatusEvent.objects.filter(product=product).latest("id")
        assert (event.from_status, event.to_status) == (status, leads_to)
        assert event.actor == product.seller.owner
    else:
        with pytest.raises(IllegalTransition):
            getattr(listing, service)(product=product, actor=product.seller.owner)
        product.refresh_from_db()
        assert product.status == status
        assert ProductStatusEvent.objects.filter(product=product).count() == events_before


def test_a_seller_cannot_reactivate_while_it_may_not_list():
    product = force_status(
        draft_product(seller=ApprovedSellerFactory()), ProductStatus.SELLER_DEACTIVATED
    )

    with pytest.raises(listing.ListingNotAllowed):
        listing.product_reactivate(product=product, actor=product.seller.owner)

    product.refresh_from_db()
    assert product.status == ProductStatus.SELLER_DEACTIVATED


def test_a_product_taken_down_by_the_platform_cannot_come_back_by_delete_and_restore():
    product = reviewed_live_product()
    product_transition(product_id=product.pk, to_status=ProductStatus.PLATFORM_DEACTIVATED)
    listing.product_delete(product=product, actor=product.seller.owner)
    product.refresh_from_db()

    assert "restore" not in listing.product_seller_actions(product)
    with pytest.raises(IllegalTransition):
        listing.product_restore(product=product, actor=product.seller.owner)
    product.refresh_from_db()
    assert product.status == ProductStatus.DELETED


def test_the_actions_offered_are_the_legal_ones():
    product = reviewed_live_product()
    assert listing.product_seller_actions(product) == {"deactivate", "delete", "duplicate", "edit"}
    product = force_status(product, ProductStatus.PLATFORM_DEACTIVATED)
    assert "reactivate" not in listing.product_seller_actions(product)
    assert "edit" not in listing.product_seller_actions(product)


def test_duplicating_makes_a_draft_with_suffixed_codes_and_copied_images():
    product = reviewed_live_product()
    product_image_add(product=product, upload=image_upload(), actor=product.seller.owner)

    copy = listing.product_duplicate(product=product, actor=product.seller.owner)

    assert copy.pk != product.pk and copy.status == ProductStatus.DRAFT
    assert copy.title == f"{product.title} (copy)"
    assert sorted(copy.skus.values_list("seller_sku", flat=True)) == [
        "SHIRT-M-COPY",
        "SHIRT-S-COPY",
    ]
    original_image = ProductImage.objects.get(product=product)
    copied_image = ProductImage.objects.get(product=copy)
    assert copied_image.image.name != original_image.image.name
    assert copied_image.image.storage.exists(copied_image.image.name)
    assert copied_image.thumbnail.storage.exists(copied_image.thumbnail.name)
    assert product.skus.count() == 2  # the original is untouched


def test_a_product_taken_down_by_the_platform_cannot_be_duplicated(listing_seller):
    product = taken_down_product(listing_seller)

    with pytest.raises(IllegalTransition):
        listing.product_duplicate(product=product, actor=listing_seller.owner)

    assert Product.objects.filter(seller=listing_seller).count() == 1
    assert "duplicate" not in listing.product_seller_actions(product)


def test_a_product_the_seller_deleted_can_still_be_duplicated(listing_seller):
    product = draft_product(seller=listing_seller)
    listing.product_delete(product=product, actor=listing_seller.owner)

    copy = listing.product_duplicate(product=product, actor=listing_seller.owner)

    assert copy.status == ProductStatus.DRAFT


# --- Staff review ------------------------------------------------------------------------------


def pending_product():
    product = draft_product(brand_name="Acme")
    listing.product_submit_for_review(product=product, actor=product.seller.owner)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    return product


def test_staff_approval_puts_it_live_records_the_reviewer_and_emails_the_owner(
    mailoutbox, django_capture_on_commit_callbacks
):
    product = pending_product()
    staff = StaffUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        listing.product_review_approve(product_id=product.pk, actor=staff)

    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    decision = product.decisions.first()
    assert decision.outcome == ListingDecision.Outcome.APPROVED and decision.decided_by == staff
    assert [mail.to for mail in mailoutbox] == [[product.seller.owner.email]]
    assert "is live" in mailoutbox[0].subject


def test_staff_rejection_records_the_reasons_and_emails_them(
    mailoutbox, django_capture_on_commit_callbacks
):
    product = pending_product()
    staff = StaffUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        listing.product_review_reject(
            product_id=product.pk, actor=staff, reasons=["Photos show another brand.", "  "]
        )

    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    decision = product.decisions.first()
    assert [reason["message"] for reason in decision.reasons] == ["Photos show another brand."]
    assert "Photos show another brand." in mailoutbox[0].body


def test_staff_rejection_needs_a_reason_and_writes_nothing_without_one(mailoutbox):
    product = pending_product()

    with pytest.raises(listing.ReasonRequired):
        listing.product_review_reject(
            product_id=product.pk, actor=StaffUserFactory(), reasons=[" "]
        )

    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert product.decisions.count() == 1  # the screening's
    assert mailoutbox == []


@pytest.mark.parametrize("decide", ["approve", "reject"])
def test_staff_can_only_decide_products_pending_review(decide):
    product = reviewed_live_product()

    with pytest.raises(IllegalTransition):
        if decide == "approve":
            listing.product_review_approve(product_id=product.pk, actor=StaffUserFactory())
        else:
            listing.product_review_reject(
                product_id=product.pk, actor=StaffUserFactory(), reasons=["No."]
            )

    assert product.decisions.count() == 1
    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE


# --- Revisions of live products ------------------------------------------------------------------


def edit(product, **changes):
    values = {
        "title": product.title,
        "description": product.description,
        "category": product.category,
        "brand_name": product.brand.name if product.brand_id else "",
        "attributes": product.attributes,
    }
    return listing.product_update(
        product=product, actor=product.seller.owner, **{**values, **changes}
    )


def test_editing_a_draft_changes_it_in_place_with_its_variants():
    product = draft_product()

    result = listing.product_update(
        product=product,
        actor=product.seller.owner,
        title="Linen overshirt",
        description="Heavier linen.",
        category=product.category,
        brand_name="",
        attributes={"Fit": "Relaxed"},
        skus=[
            SkuInput("SHIRT-M", 3100, 4, {"Size": "M"}),
            SkuInput("SHIRT-L", 3300, 2, {"Size": "L"}),
        ],
    )

    assert result.outcome == "saved" and result.revision is None
    product.refresh_from_db()
    assert product.title == "Linen overshirt"
    assert product.attributes == {"Fit": "Relaxed"}
    assert (product.price_min_minor, product.price_max_minor) == (3100, 3300)
    assert "overshirt" in product.search_text
    active = dict(product.skus.filter(is_active=True).values_list("seller_sku", "price_minor"))
    assert active == {"SHIRT-M": 3100, "SHIRT-L": 3300}
    assert product.skus.get(seller_sku="SHIRT-S").is_active is False
    assert not ProductRevision.objects.exists()


def test_an_invalid_edit_is_refused_per_field_and_changes_nothing():
    product = draft_product()

    with pytest.raises(InvalidProduct) as error:
        listing.product_update(
            product=product,
            actor=product.seller.owner,
            title="  ",
            description="",
            category=product.category,
            skus=[SkuInput("A", 0, 1)],
        )

    assert {"title", "skus"} <= set(error.value.field_errors)
    product.refresh_from_db()
    assert product.title == "Washed linen shirt"
    assert product.skus.filter(is_active=True).count() == 2


def test_an_edit_of_a_live_product_that_passes_screening_is_applied_at_once():
    product = reviewed_live_product()

    result = edit(product, title="Washed linen shirt, relaxed fit")

    assert result.outcome == ProductRevision.Status.APPROVED
    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    assert product.title == "Washed linen shirt, relaxed fit"
    assert "relaxed fit" in product.search_text
    assert result.decision.revision == result.revision


def test_an_edit_held_for_review_leaves_the_live_version_on_sale_unchanged():
    KeywordRuleFactory(phrase="limited edition", action=KeywordRule.Action.REVIEW, reason="Check.")
    product = reviewed_live_product()

    result = edit(product, title="Limited edition linen shirt", description="New text")

    assert result.outcome == ProductRevision.Status.PENDING_REVIEW
    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    assert product.title == "Washed linen shirt"
    assert product.description == "Soft linen."
    assert result.revision.snapshot["title"] == "Limited edition linen shirt"
    assert result.revision.snapshot["category_id"] == product.category_id


def test_approving_a_pending_revision_applies_it_and_emails_the_owner(
    mailoutbox, django_capture_on_commit_callbacks
):
    product = reviewed_live_product()
    result = edit(product, title="Acme linen shirt", brand_name="Acme")  # brand -> review

    with django_capture_on_commit_callbacks(execute=True):
        listing.revision_approve(revision_id=result.revision.pk, actor=StaffUserFactory())

    product.refresh_from_db()
    assert product.title == "Acme linen shirt" and product.brand.name == "Acme"
    assert product.status == ProductStatus.LIVE
    result.revision.refresh_from_db()
    assert result.revision.status == ProductRevision.Status.APPROVED
    assert "acme" in product.search_text
    assert "approved" in mailoutbox[0].subject


def test_rejecting_a_pending_revision_keeps_the_live_version(
    mailoutbox, django_capture_on_commit_callbacks
):
    product = reviewed_live_product()
    result = edit(product, title="Acme linen shirt", brand_name="Acme")

    with django_capture_on_commit_callbacks(execute=True):
        listing.revision_reject(
            revision_id=result.revision.pk, actor=StaffUserFactory(), reasons=["No authorization."]
        )

    product.refresh_from_db()
    assert product.title == "Washed linen shirt" and product.brand is None
    result.revision.refresh_from_db()
    assert result.revision.status == ProductRevision.Status.REJECTED
    assert "No authorization." in mailoutbox[0].body


def test_an_edit_refused_by_screening_is_rejected_and_the_live_version_is_untouched():
    KeywordRuleFactory(phrase="cure cancer", reason="No health claims.")
    product = reviewed_live_product()

    result = edit(product, description="This shirt will cure cancer.")

    assert result.outcome == ProductRevision.Status.REJECTED
    assert result.decision.reasons[0]["code"] == "keyword_blocked"
    product.refresh_from_db()
    assert product.description == "Soft linen."
    assert product.status == ProductStatus.LIVE


def test_a_newer_edit_supersedes_the_one_still_waiting():
    product = reviewed_live_product()
    first = edit(product, title="Acme linen shirt", brand_name="Acme").revision

    second = edit(product, title="Acme linen shirt, blue", brand_name="Acme").revision

    first.refresh_from_db()
    assert first.status == ProductRevision.Status.SUPERSEDED
    assert second.status == ProductRevision.Status.PENDING_REVIEW
    assert ProductRevision.objects.filter(status="pending_review").count() == 1
    with pytest.raises(IllegalTransition):
        listing.revision_approve(revision_id=first.pk, actor=StaffUserFactory())

    first.refresh_from_db()
    product.refresh_from_db()
    assert first.status == ProductRevision.Status.SUPERSEDED
    assert product.title == "Washed linen shirt"


def test_saving_the_live_content_unchanged_creates_no_revision_and_withdraws_a_pending_one():
    product = reviewed_live_product()
    pending = edit(product, title="Acme linen shirt", brand_name="Acme").revision

    result = edit(product, description="Soft linen.\r\n")

    assert result.outcome == "unchanged"
    pending.refresh_from_db()
    assert pending.status == ProductRevision.Status.SUPERSEDED
    assert ProductRevision.objects.count() == 1


def test_the_variants_of_a_live_product_are_not_replaced_by_an_edit():
    product = reviewed_live_product()

    with pytest.raises(listing.ListingError):
        edit(product, skus=[SkuInput("NEW", 100, 1)])

    assert not ProductRevision.objects.exists()
    assert product.skus.filter(is_active=True).count() == 2


@pytest.mark.parametrize(
    "status",
    [ProductStatus.PENDING_REVIEW, ProductStatus.PLATFORM_DEACTIVATED, ProductStatus.DELETED],
)
def test_products_in_review_taken_down_or_deleted_cannot_be_edited(status):
    product = force_status(draft_product(), status)

    with pytest.raises(IllegalTransition):
        edit(product, title="Something else")

    product.refresh_from_db()
    assert product.title == "Washed linen shirt"


def test_an_edit_of_a_product_taken_down_meanwhile_cannot_be_approved(listing_seller):
    product = reviewed_live_product(seller=listing_seller, title="Printed tote")
    result = listing.product_update(
        product=product,
        actor=listing_seller.owner,
        title="Acme printed tote",
        description="Now by Acme.",
        category=product.category,
        brand_name="Acme",
    )
    assert result.revision.status == "pending_review"
    complaint = file_complaint(product=product)
    ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Their logo.")

    with pytest.raises(IllegalTransition):
        listing.revision_approve(revision_id=result.revision.pk, actor=StaffUserFactory())

    product.refresh_from_db()
    result.revision.refresh_from_db()
    assert product.title == "Printed tote"
    assert result.revision.status == "pending_review"


# --- Price and stock -----------------------------------------------------------------------------


def test_price_and_stock_change_without_review_and_refresh_the_listing_fields():
    product = reviewed_live_product()
    sku = product.skus.get(seller_sku="SHIRT-S")

    listing.sku_update_price_and_stock(
        product=product, sku_id=sku.pk, price_minor=1999, stock_on_hand=0, actor=None
    )

    product.refresh_from_db()
    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == (1999, 0)
    assert product.status == ProductStatus.LIVE
    assert (product.price_min_minor, product.in_stock) == (1999, False)


@pytest.mark.parametrize(
    ("price_minor", "stock"),
    [(0, 5), (2500, -1), (3500, 5)],  # zero price, negative stock, not below the compare-at
)
def test_invalid_price_or_stock_is_refused_and_nothing_changes(price_minor, stock):
    product = reviewed_live_product()
    sku = product.skus.get(seller_sku="SHIRT-M")  # compare-at 35.00

    with pytest.raises(listing.ListingError):
        listing.sku_update_price_and_stock(
            product=product, sku_id=sku.pk, price_minor=price_minor, stock_on_hand=stock, actor=None
        )

    sku.refresh_from_db()
    assert (sku.price_minor, sku.stock_on_hand) == (2700, 0)


def test_a_variant_of_another_product_cannot_be_changed():
    product = reviewed_live_product()
    other = draft_product(seller=ApprovedSellerFactory())
    other_sku = other.skus.first()

    with pytest.raises(listing.ListingError):
        listing.sku_update_price_and_stock(
            product=product, sku_id=other_sku.pk, price_minor=100, stock_on_hand=1, actor=None
        )

    other_sku.refresh_from_db()
    assert other_sku.price_minor == 2500


def test_replacing_the_variants_of_a_live_product_is_refused():
    product = reviewed_live_product()

    with pytest.raises(IllegalTransition):
        listing.product_skus_replace(product=product, skus=[SkuInput("X", 100, 1)], actor=None)

    assert not product.skus.filter(seller_sku="X").exists()
