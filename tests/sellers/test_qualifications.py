"""Qualifications: a seller uploads a checked document for a restricted category or a brand,
staff approve or reject it (with a reason) in admin, and approved ones become the credentials that
listing screening reads. An expired document and more than a few waiting are refused, and the
seller is locked before the duplicate check."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from marketplace.errors import DomainError, IllegalTransition
from policies.models import PolicyStatus
from policies.screening import SellerCredentials
from sellers.credentials import seller_screening_credentials
from sellers.forms.setup import QualificationForm
from sellers.models import Qualification, SellerRole
from sellers.services.qualifications import (
    MAX_PENDING_QUALIFICATIONS,
    QualificationRefused,
    qualification_approve,
    qualification_reject,
    qualification_submit,
)
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.markers import needs_postgres
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import (
    ApprovedSellerFactory,
    QualificationFactory,
    SellerMemberFactory,
    pdf_upload,
)

pytestmark = pytest.mark.django_db


def private_files(settings):
    root = settings.PRIVATE_MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_category_qualification_is_stored_privately_under_a_server_name(settings, restricted):
    seller = ApprovedSellerFactory()

    qualification = qualification_submit(
        seller=seller,
        kind=Qualification.Kind.CATEGORY,
        category=restricted,
        document=pdf_upload("my licence.pdf"),
        submitted_by=seller.owner,
    )

    assert qualification.status == Qualification.Status.PENDING
    assert qualification.document.name.startswith(f"qualifications/{seller.pk}/")
    assert "licence" not in qualification.document.name
    assert qualification.original_name == "my licence.pdf"
    assert qualification.content_type == "application/pdf"
    [stored] = private_files(settings)
    assert str(stored).startswith(str(settings.PRIVATE_MEDIA_ROOT))


def test_a_fake_document_is_refused_and_nothing_is_stored(settings, restricted):
    seller = ApprovedSellerFactory()
    fake = SimpleUploadedFile(
        "licence.pdf", b"<html>not a pdf</html>", content_type="application/pdf"
    )

    with pytest.raises(QualificationRefused, match="not a real PDF"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=restricted,
            document=fake,
            submitted_by=seller.owner,
        )
    assert not Qualification.objects.exists()
    assert private_files(settings) == []


@pytest.mark.parametrize("status", [PolicyStatus.ALLOWED, PolicyStatus.PROHIBITED])
def test_only_a_restricted_category_takes_a_qualification(status):
    seller = ApprovedSellerFactory()

    with pytest.raises(QualificationRefused, match="not a restricted category"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=CategoryFactory(policy_status=status),
            document=pdf_upload(),
            submitted_by=seller.owner,
        )
    assert not Qualification.objects.exists()


def test_a_second_pending_qualification_for_the_same_brand_is_refused():
    seller = ApprovedSellerFactory()
    qualification_submit(
        seller=seller,
        kind="brand",
        brand_name="Acme",
        document=pdf_upload(),
        submitted_by=seller.owner,
    )

    with pytest.raises(QualificationRefused, match="already waiting"):
        qualification_submit(
            seller=seller,
            kind="brand",
            brand_name=" ACME ",
            document=pdf_upload(),
            submitted_by=seller.owner,
        )
    assert Qualification.objects.count() == 1


def test_a_qualification_that_has_already_expired_is_refused(settings, restricted):
    seller = ApprovedSellerFactory()

    with pytest.raises(QualificationRefused, match="already expired"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=restricted,
            document=pdf_upload(),
            submitted_by=seller.owner,
            expires_on=timezone.localdate() - timedelta(days=1),
        )

    assert not Qualification.objects.exists()


def test_the_qualification_form_explains_an_expiry_date_in_the_past(restricted):
    form = QualificationForm(
        {
            "kind": Qualification.Kind.CATEGORY,
            "category": restricted.pk,
            "expires_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        },
        {"document": pdf_upload()},
    )

    assert not form.is_valid()
    assert "has passed" in form.errors["expires_on"][0]


def test_a_seller_can_have_only_so_many_qualifications_waiting(settings):
    seller = ApprovedSellerFactory()
    for number in range(MAX_PENDING_QUALIFICATIONS):
        QualificationFactory(seller=seller, brand_name=f"Brand {number}")

    with pytest.raises(QualificationRefused, match="already waiting"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.BRAND,
            brand_name="One More",
            document=pdf_upload(),
            submitted_by=seller.owner,
        )

    assert Qualification.objects.filter(seller=seller).count() == MAX_PENDING_QUALIFICATIONS


@needs_postgres
def test_submitting_a_qualification_locks_the_seller_before_checking_for_duplicates():
    seller = ApprovedSellerFactory()

    with CaptureQueriesContext(connection) as queries:
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.BRAND,
            brand_name="Acme",
            document=pdf_upload(),
            submitted_by=seller.owner,
        )

    statements = [query["sql"] for query in queries.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    check = next(i for i, sql in enumerate(statements) if "sellers_qualification" in sql)
    assert 'FROM "sellers_seller"' in statements[lock]
    assert lock < check


def test_approving_emails_the_owner_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    qualification = QualificationFactory(brand_name="Acme")
    staff = StaffUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        qualification_approve(qualification_id=qualification.pk, actor=staff)

    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.APPROVED
    assert qualification.reviewed_by == staff
    [email] = mailoutbox
    assert email.to == [qualification.seller.owner.email]
    assert "approved" in email.subject


def test_rejecting_needs_a_reason_and_emails_it(mailoutbox, django_capture_on_commit_callbacks):
    qualification = QualificationFactory()
    staff = StaffUserFactory()

    with pytest.raises(DomainError, match="reason"):
        qualification_reject(qualification_id=qualification.pk, actor=staff, reason="   ")
    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        qualification_reject(
            qualification_id=qualification.pk, actor=staff, reason="The letter is not signed."
        )

    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.REJECTED
    assert qualification.rejection_reason == "The letter is not signed."
    assert "The letter is not signed." in mailoutbox[0].body


def test_a_decided_qualification_cannot_be_decided_again():
    qualification = QualificationFactory(status=Qualification.Status.REJECTED)

    with pytest.raises(IllegalTransition):
        qualification_approve(qualification_id=qualification.pk, actor=StaffUserFactory())
    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.REJECTED


def test_credentials_hold_only_approved_unexpired_qualifications(restricted):
    seller = ApprovedSellerFactory()
    other_category = CategoryFactory(policy_status=PolicyStatus.RESTRICTED)
    QualificationFactory(
        seller=seller, kind="category", category=restricted, brand_name="", status="approved"
    )
    QualificationFactory(
        seller=seller, kind="category", category=other_category, brand_name="", status="pending"
    )
    QualificationFactory(seller=seller, brand_name="  ACME  Tools ", status="approved")
    QualificationFactory(seller=seller, brand_name="Rejected Co", status="rejected")
    QualificationFactory(
        seller=seller,
        brand_name="Expired Co",
        status="approved",
        expires_on=timezone.localdate() - timedelta(days=1),
    )
    QualificationFactory(brand_name="Someone Elses", status="approved")

    credentials = seller_screening_credentials(seller=seller)

    assert credentials == SellerCredentials(
        qualified_category_ids=frozenset({restricted.pk}),
        authorized_brands=frozenset({"acme tools"}),
    )


# --- The Seller Center page -------------------------------------------------------------------


def test_the_page_uploads_a_qualification_and_lists_it(client, restricted):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:qualifications"),
        {"kind": "category", "category": restricted.pk, "document": pdf_upload()},
        follow=True,
    )

    html = response.content.decode()
    assert "is submitted" in html
    assert "Medicines" in html and "Pending review" in html
    assert Qualification.objects.get().submitted_by == seller.owner


def test_the_page_offers_only_restricted_categories(client, restricted):
    CategoryFactory(name="Socks")
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:qualifications")).content.decode()

    assert "Medicines" in html
    assert "Socks" not in html


def test_the_page_shows_field_errors_and_stores_nothing(client, settings, restricted):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:qualifications"),
        {"kind": "brand", "brand_name": "", "document": SimpleUploadedFile("x.exe", b"MZ")},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_brand_name_error"' in html
    assert 'id="id_document_error"' in html
    assert not Qualification.objects.exists()
    assert private_files(settings) == []


def test_the_page_shows_rejection_reasons(client):
    qualification = QualificationFactory(status="rejected", rejection_reason="Blurry scan.")
    client.force_login(qualification.seller.owner)

    assert "Blurry scan." in client.get(reverse("seller_center:qualifications")).content.decode()


def test_a_product_manager_can_upload_but_finance_cannot(client):
    seller = ApprovedSellerFactory()
    product_manager = SellerMemberFactory(seller=seller, role=SellerRole.PRODUCT_MANAGER)
    finance = SellerMemberFactory(seller=seller, role=SellerRole.FINANCE)

    client.force_login(product_manager.user)
    assert client.get(reverse("seller_center:qualifications")).status_code == 200
    client.force_login(finance.user)
    assert client.get(reverse("seller_center:qualifications")).status_code == 404


def test_a_seller_downloads_its_own_document_but_never_anothers(client):
    mine = QualificationFactory()
    theirs = QualificationFactory(brand_name="Theirs", original_name="theirs.pdf")
    client.force_login(mine.seller.owner)

    own = client.get(reverse("seller_center:qualification_document", args=[mine.pk]))
    other = client.get(reverse("seller_center:qualification_document", args=[theirs.pk]))
    listing = client.get(reverse("seller_center:qualifications")).content.decode()

    assert own.status_code == 200
    assert own["Content-Disposition"].startswith("attachment")
    assert own["X-Content-Type-Options"] == "nosniff"
    assert other.status_code == 404
    assert "theirs.pdf" not in listing


# --- Admin ------------------------------------------------------------------------------------


def test_admin_lists_the_pending_queue(client):
    pending = QualificationFactory(brand_name="Pendingco")
    QualificationFactory(brand_name="Doneco", status="approved")
    client.force_login(StaffUserFactory())

    html = client.get(
        reverse("admin:sellers_qualification_changelist") + "?queue=pending"
    ).content.decode()

    assert "Pendingco" in html
    assert "Doneco" not in html
    assert pending.seller.shop_name in html


def test_admin_approves_with_the_action(client, mailoutbox, django_capture_on_commit_callbacks):
    qualification = QualificationFactory()
    client.force_login(StaffUserFactory())

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:sellers_qualification_changelist"),
            {"action": "approve_selected", "_selected_action": [qualification.pk]},
        )

    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.APPROVED
    assert len(mailoutbox) == 1


def test_admin_reject_asks_for_a_reason_first(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    qualification = QualificationFactory()
    client.force_login(StaffUserFactory())

    response = client.post(
        reverse("admin:sellers_qualification_changelist"),
        {"action": "reject_selected", "_selected_action": [qualification.pk]},
    )
    assert response.status_code == 302
    page = client.get(response.url)
    assert page.status_code == 200
    assert "Reason for rejecting" in page.content.decode()
    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.PENDING

    empty = client.post(
        reverse("admin:sellers_qualification_reject"), {"ids": str(qualification.pk), "reason": ""}
    )
    assert empty.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:sellers_qualification_reject"),
            {"ids": str(qualification.pk), "reason": "Expired licence."},
        )

    qualification.refresh_from_db()
    assert qualification.status == Qualification.Status.REJECTED
    assert qualification.rejection_reason == "Expired licence."
    assert len(mailoutbox) == 1


def test_admin_document_download_is_for_staff_only(client):
    qualification = QualificationFactory()
    url = reverse("admin:sellers_qualification_document", args=[qualification.pk])

    client.force_login(UserFactory())
    assert client.get(url).status_code == 302  # to the admin login

    client.force_login(StaffUserFactory())
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_qualifications_page_query_count_does_not_grow_with_rows(client, restricted):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("seller_center:qualifications")).status_code == 200
        return len(queries)

    QualificationFactory(seller=seller, kind="category", category=restricted, brand_name="")
    count()  # a first request may create one-off rows (the enforcement settings)
    few = count()
    for number in range(8):
        QualificationFactory(
            seller=seller,
            kind="category",
            category=CategoryFactory(policy_status=PolicyStatus.RESTRICTED),
            brand_name="",
        )
        QualificationFactory(seller=seller, brand_name=f"Brand {number}")

    assert count() == few
