"""The admin review queue: staff approve and reject products and revisions from the change page
and from list actions, rejecting always with reasons (view-only staff are offered no decision and
cannot make one; ids no product can have answer a message); product pages are read-only and cost
the same queries however long their history."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import (
    Brand,
    ListingDecision,
    Product,
    ProductRevision,
    ProductStatus,
    ProductStatusEvent,
)
from catalog.services import listing
from catalog.services.products import SkuInput
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.catalog.factories import draft_product, reviewed_live_product

pytestmark = pytest.mark.django_db


def pending_product(**kwargs):
    product = draft_product(brand_name="Acme", **kwargs)
    listing.product_submit_for_review(product=product, actor=product.seller.owner)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    return product


def review_url(model: str, decision: str, *objects) -> str:
    ids = ",".join(str(obj.pk) for obj in objects)
    return reverse(f"admin:catalog_{model}_review", args=[decision]) + f"?ids={ids}"


def test_the_change_page_of_a_pending_product_offers_approve_and_reject(staff_client):
    product = pending_product()

    page = staff_client.get(
        reverse("admin:catalog_product_change", args=[product.pk])
    ).content.decode()

    assert reverse("admin:catalog_product_review", args=["approve"]) in page
    assert reverse("admin:catalog_product_review", args=["reject"]) in page
    assert "Reject" in page
    assert "brand_not_authorized" not in page  # reasons are shown as text, not codes
    assert "needs a brand authorization" in page


def test_a_live_product_has_no_review_buttons(staff_client):
    product = reviewed_live_product()

    response = staff_client.get(reverse("admin:catalog_product_change", args=[product.pk]))

    assert response.context["review_buttons"] == []


def test_staff_approve_from_the_change_page(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    product = pending_product()
    url = review_url("product", "approve", product)
    assert staff_client.get(url).status_code == 200  # the confirmation page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"ids": str(product.pk)})

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.status == ProductStatus.LIVE
    assert product.decisions.first().decided_by.is_staff
    assert len(mailoutbox) == 1


def test_staff_reject_asks_for_reasons_and_records_each_line(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    product = pending_product()
    url = review_url("product", "reject", product)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            url, {"ids": str(product.pk), "reasons": "Photos show a logo.\n\nTitle is misleading."}
        )

    product.refresh_from_db()
    assert product.status == ProductStatus.REJECTED
    assert [reason["message"] for reason in product.decisions.first().reasons] == [
        "Photos show a logo.",
        "Title is misleading.",
    ]
    assert "Title is misleading." in mailoutbox[0].body


def test_rejecting_without_a_reason_shows_the_error_and_changes_nothing(staff_client, mailoutbox):
    product = pending_product()

    response = staff_client.post(
        review_url("product", "reject", product), {"ids": str(product.pk), "reasons": "  "}
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert mailoutbox == []


def test_list_actions_lead_to_the_review_page_for_the_selection(staff_client):
    first, second = pending_product(), pending_product()
    changelist = reverse("admin:catalog_product_changelist")

    response = staff_client.post(
        changelist,
        {"action": "reject_selected", "_selected_action": [first.pk, second.pk]},
    )
    assert response["Location"] == review_url("product", "reject", first, second)

    staff_client.post(
        response["Location"], {"ids": f"{first.pk},{second.pk}", "reasons": "Not allowed."}
    )

    assert set(Product.objects.values_list("status", flat=True)) == {ProductStatus.REJECTED}


def test_approving_a_selection_skips_what_is_no_longer_pending(staff_client):
    pending, live = pending_product(), reviewed_live_product()

    response = staff_client.post(
        review_url("product", "approve", pending, live),
        {"ids": f"{pending.pk},{live.pk}"},
        follow=True,
    )

    pending.refresh_from_db()
    assert pending.status == ProductStatus.LIVE
    assert "Not changed" in response.content.decode()


def test_the_review_queue_lists_pending_products(staff_client):
    pending = pending_product()
    reviewed_live_product(title="Already live")

    response = staff_client.get(reverse("admin:catalog_product_changelist") + "?queue=pending")

    assert list(response.context["cl"].result_list) == [pending]
    assert "Review queue (1)" in response.content.decode()


def test_product_pages_are_read_only(staff_client):
    product = pending_product()
    url = reverse("admin:catalog_product_change", args=[product.pk])

    staff_client.post(url, {"title": "Changed", "status": "live"})

    product.refresh_from_db()
    assert product.title == "Washed linen shirt"
    assert product.status == ProductStatus.PENDING_REVIEW


def test_the_admin_product_page_costs_the_same_queries_however_long_its_history(
    client, listing_seller
):
    client.force_login(StaffUserFactory(is_superuser=True))

    def queries_for(variant_count: int) -> int:
        product = draft_product(
            seller=listing_seller,
            skus=[SkuInput(f"S{n}", 100 + n, 1, {"Size": str(n)}) for n in range(variant_count)],
        )
        for _ in range(variant_count):
            ProductStatusEvent.objects.create(
                product=product, from_status="draft", to_status="draft", actor=UserFactory()
            )
            ListingDecision.objects.create(
                product=product, outcome="approved", decided_by=UserFactory()
            )
        url = reverse("admin:catalog_product_change", args=[product.pk])
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    queries_for(1)  # warms the caches the first admin request fills (content types)
    assert queries_for(6) == queries_for(1)


def test_the_review_pages_are_for_staff_only(client):
    product = pending_product()
    client.force_login(UserFactory())

    response = client.post(review_url("product", "approve", product), {"ids": str(product.pk)})

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW


def view_only_staff():
    user = StaffUserFactory(is_superuser=False)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="catalog", codename__in=["view_product", "view_productrevision"]
        )
    )
    return user


def test_view_only_staff_are_offered_no_review_actions_and_cannot_decide(client):
    product = pending_product()
    client.force_login(view_only_staff())

    changelist = client.get(reverse("admin:catalog_product_changelist"))
    approve = client.post(
        reverse("admin:catalog_product_review", args=["approve"]) + f"?ids={product.pk}",
        {"ids": str(product.pk)},
    )
    action = client.post(
        reverse("admin:catalog_product_changelist"),
        {"action": "approve_selected", "_selected_action": [product.pk]},
    )

    assert changelist.status_code == 200
    assert "approve_selected" not in changelist.content.decode()
    assert approve.status_code == 403
    assert action.status_code in (200, 302)
    product.refresh_from_db()
    assert product.status == ProductStatus.PENDING_REVIEW
    assert not ListingDecision.objects.filter(product=product, decided_by__isnull=False).exists()


@pytest.mark.parametrize("ids", ["99999999999999999999999", "-1", "x", "1,,2"])
def test_the_review_page_answers_ids_no_product_can_have_with_a_message(client, ids):
    client.force_login(StaffUserFactory())

    response = client.get(
        reverse("admin:catalog_product_review", args=["approve"]) + f"?ids={ids}", follow=True
    )

    assert response.status_code == 200
    assert "Select at least one item" in " ".join(str(m) for m in response.context["messages"])


def pending_revision():
    product = reviewed_live_product()
    result = listing.product_update(
        product=product,
        actor=product.seller.owner,
        title="Acme linen shirt",
        description="Now by Acme.",
        category=product.category,
        brand_name="Acme",
        attributes={},
    )
    assert result.revision.status == ProductRevision.Status.PENDING_REVIEW
    return result.revision


def test_the_revision_page_shows_the_changes_against_the_live_version(staff_client):
    revision = pending_revision()

    page = staff_client.get(
        reverse("admin:catalog_productrevision_change", args=[revision.pk])
    ).content.decode()

    assert "Live now" in page and "Proposed" in page
    assert "Washed linen shirt" in page and "Acme linen shirt" in page
    assert "Now by Acme." in page


def test_staff_approve_a_revision_and_it_replaces_the_live_version(staff_client):
    revision = pending_revision()

    staff_client.post(review_url("productrevision", "approve", revision), {"ids": str(revision.pk)})

    revision.refresh_from_db()
    revision.product.refresh_from_db()
    assert revision.status == ProductRevision.Status.APPROVED
    assert revision.product.title == "Acme linen shirt"


def test_staff_reject_a_revision_with_reasons_and_the_live_version_stays(staff_client):
    revision = pending_revision()

    staff_client.post(
        review_url("productrevision", "reject", revision),
        {"ids": str(revision.pk), "reasons": "No authorization for Acme."},
    )

    revision.refresh_from_db()
    revision.product.refresh_from_db()
    assert revision.status == ProductRevision.Status.REJECTED
    assert revision.product.title == "Washed linen shirt"
    assert revision.decisions.get(outcome="rejected").reasons[0]["message"] == (
        "No authorization for Acme."
    )


def test_brand_and_attribute_admin_pages_open(staff_client):
    for name in ("brand", "categoryattribute"):
        assert staff_client.get(reverse(f"admin:catalog_{name}_changelist")).status_code == 200
        assert staff_client.get(reverse(f"admin:catalog_{name}_add")).status_code == 200


def test_a_brand_added_in_admin_gets_its_matching_key(staff_client):
    staff_client.post(
        reverse("admin:catalog_brand_add"), {"name": "  North  Wind ", "slug": "north-wind"}
    )

    assert Brand.objects.get(slug="north-wind").normalized_name == "north wind"
