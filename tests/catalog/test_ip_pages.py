"""IP complaint pages: the report form, the complainant's list, the Seller Center list and appeal,
document access (the proof served sandboxed under a clean name), and the admin queue with its
decisions."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.models import BulkUpload, IPComplaint, ProductStatus
from catalog.services.ip_complaints import ip_complaint_reference
from sellers.models import SellerRole, SellerStatus, Violation
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.catalog.factories import (
    PDF_BYTES,
    LiveProductFactory,
    ProductFactory,
    appealed_complaint,
    fake_pdf_upload,
    file_complaint,
    pdf_upload,
    private_files,
    upheld_complaint,
)
from tests.sellers.factories import ApprovedSellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def complaint_form(**overrides) -> dict:
    data = {
        "right_type": "trademark",
        "rights_owner": "Northwind Ltd",
        "registration_number": "EUTM 000123",
        "description": "The listing uses our logo.",
        "proof": pdf_upload(),
        "confirm": "on",
    }
    data.update(overrides)
    return data


# --- Rights owners ---------------------------------------------------------------------------


def test_signed_out_visitors_are_asked_to_sign_in_before_reporting(client):
    product = LiveProductFactory()

    response = client.get(reverse("ip:report", args=[product.pk]))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_report_form_files_a_complaint_and_confirms_its_reference(client):
    product = LiveProductFactory(title="Printed tote")
    user = UserFactory()
    client.force_login(user)

    page = client.get(reverse("ip:report", args=[product.pk]))
    response = client.post(reverse("ip:report", args=[product.pk]), complaint_form(), follow=True)

    assert page.status_code == 200
    assert "Printed tote" in page.content.decode()
    complaint = IPComplaint.objects.get()
    assert complaint.complainant == user
    assert response.redirect_chain == [(reverse("ip:my_complaints"), 302)]
    body = response.content.decode()
    assert f"Your reference is {ip_complaint_reference(complaint)}" in body
    assert "Under review" in body


@pytest.mark.parametrize(
    "status", [ProductStatus.DRAFT, ProductStatus.PLATFORM_DEACTIVATED, ProductStatus.DELETED]
)
def test_a_product_that_is_not_on_sale_cannot_be_reported(client, status):
    product = ProductFactory(status=status)
    client.force_login(UserFactory())

    assert client.get(reverse("ip:report", args=[product.pk])).status_code == 404
    assert client.post(reverse("ip:report", args=[product.pk]), complaint_form()).status_code == 404
    assert not IPComplaint.objects.exists()


def test_a_live_product_of_a_suspended_shop_cannot_be_reported(client):
    product = LiveProductFactory(seller=ApprovedSellerFactory(status=SellerStatus.SUSPENDED))
    client.force_login(UserFactory())

    assert client.get(reverse("ip:report", args=[product.pk])).status_code == 404


def test_invalid_proof_is_shown_next_to_the_field_and_nothing_is_written(client, settings):
    product = LiveProductFactory()
    client.force_login(UserFactory())

    response = client.post(
        reverse("ip:report", args=[product.pk]), complaint_form(proof=fake_pdf_upload())
    )

    assert response.status_code == 400
    assert "not a real PDF file" in " ".join(response.context["form"].errors["proof"])
    assert not IPComplaint.objects.exists()
    assert private_files(settings) == []


def test_complainants_see_only_their_own_complaints(client):
    mine = file_complaint(complainant=UserFactory())
    theirs = file_complaint()
    client.force_login(mine.complainant)

    body = client.get(reverse("ip:my_complaints")).content.decode()

    assert ip_complaint_reference(mine) in body
    assert ip_complaint_reference(theirs) not in body


# --- Sellers ---------------------------------------------------------------------------------


def test_sellers_see_decided_complaints_only_with_the_appeal_form_for_upheld_ones(client):
    product = LiveProductFactory()
    pending = file_complaint(product=product)
    upheld = upheld_complaint(product=LiveProductFactory(seller=product.seller))
    other_shop = upheld_complaint()
    client.force_login(product.seller.owner)

    response = client.get(reverse("seller_ip_complaints:list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert ip_complaint_reference(upheld) in body
    assert ip_complaint_reference(pending) not in body
    assert ip_complaint_reference(other_shop) not in body
    assert reverse("seller_ip_complaints:appeal", args=[upheld.pk]) in body


def test_a_product_manager_sees_complaints_but_no_appeal_form(client):
    complaint = upheld_complaint()
    member = SellerMemberFactory(seller=complaint.product.seller, role=SellerRole.PRODUCT_MANAGER)
    client.force_login(member.user)

    listing = client.get(reverse("seller_ip_complaints:list"))
    appeal = client.post(
        reverse("seller_ip_complaints:appeal", args=[complaint.pk]),
        {"text": "Licence.", "evidence": pdf_upload()},
    )

    assert ip_complaint_reference(complaint) in listing.content.decode()
    assert (
        reverse("seller_ip_complaints:appeal", args=[complaint.pk]) not in listing.content.decode()
    )
    assert appeal.status_code == 404
    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE


def test_the_owner_appeals_from_the_seller_center(client):
    complaint = upheld_complaint()
    client.force_login(complaint.product.seller.owner)

    response = client.post(
        reverse("seller_ip_complaints:appeal", args=[complaint.pk]),
        {"text": "We hold a licence.", "evidence": pdf_upload("licence.pdf")},
        follow=True,
    )

    complaint.refresh_from_db()
    assert response.redirect_chain == [(reverse("seller_ip_complaints:list"), 302)]
    assert complaint.appeal_status == IPComplaint.AppealStatus.SUBMITTED
    assert "Your appeal on" in response.content.decode()
    assert "Appeal under review" in response.content.decode()


def test_a_second_appeal_from_the_seller_center_is_refused_with_a_message(client):
    complaint = appealed_complaint()
    client.force_login(complaint.product.seller.owner)

    response = client.post(
        reverse("seller_ip_complaints:appeal", args=[complaint.pk]),
        {"text": "Again.", "evidence": pdf_upload()},
    )

    assert response.status_code == 400
    assert "appealed once" in response.content.decode()
    complaint.refresh_from_db()
    assert complaint.appeal_text == "We hold a licence."


def test_appeal_errors_are_shown_next_to_the_fields(client):
    complaint = upheld_complaint()
    client.force_login(complaint.product.seller.owner)

    response = client.post(
        reverse("seller_ip_complaints:appeal", args=[complaint.pk]),
        {"text": "Licence.", "evidence": fake_pdf_upload()},
    )

    assert response.status_code == 400
    assert response.context["form"].errors["evidence"]
    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE


def test_another_sellers_complaint_answers_404_in_the_seller_center(client):
    complaint = upheld_complaint()
    client.force_login(ApprovedSellerFactory().owner)

    assert (
        client.get(reverse("seller_ip_complaints:appeal", args=[complaint.pk])).status_code == 404
    )
    assert (
        client.post(
            reverse("seller_ip_complaints:appeal", args=[complaint.pk]),
            {"text": "Mine.", "evidence": pdf_upload()},
        ).status_code
        == 404
    )


# --- Documents -------------------------------------------------------------------------------


def test_the_sellers_staff_download_their_appeal_evidence_as_an_attachment(client):
    complaint = appealed_complaint()
    member = SellerMemberFactory(seller=complaint.product.seller, role=SellerRole.PRODUCT_MANAGER)
    client.force_login(member.user)

    response = client.get(reverse("seller_ip_complaints:evidence", args=[complaint.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize(
    "who", ["anonymous", "complainant", "other_seller", "order_manager", "shopper"]
)
def test_outsiders_get_404_for_appeal_evidence(client, who):
    complaint = appealed_complaint()
    users = {
        "complainant": complaint.complainant,
        "other_seller": ApprovedSellerFactory().owner,
        "order_manager": SellerMemberFactory(
            seller=complaint.product.seller, role=SellerRole.ORDER_MANAGER
        ).user,
        "shopper": UserFactory(),
    }
    if who in users:
        client.force_login(users[who])

    response = client.get(reverse("seller_ip_complaints:evidence", args=[complaint.pk]))

    assert response.status_code == 404


def test_no_one_outside_admin_can_download_the_complainants_proof(client):
    complaint = file_complaint()
    url = reverse("admin:catalog_ipcomplaint_proof", args=[complaint.pk])

    client.force_login(complaint.complainant)
    assert client.get(url).status_code == 302  # to the admin sign-in, never the file
    client.force_login(complaint.product.seller.owner)
    assert client.get(url).status_code == 302


# --- Admin -----------------------------------------------------------------------------------


def test_the_admin_queues_list_waiting_complaints_and_appeals(staff_client):
    waiting = file_complaint()
    appealed = appealed_complaint()
    url = reverse("admin:catalog_ipcomplaint_changelist")

    everything = staff_client.get(url)
    complaints = staff_client.get(url, {"queue": "complaints"})
    appeals = staff_client.get(url, {"queue": "appeals"})

    assert everything.status_code == 200
    assert "Complaints to decide (1)" in everything.content.decode()
    assert "Appeals to decide (1)" in everything.content.decode()
    assert list(complaints.context["cl"].result_list) == [waiting]
    assert list(appeals.context["cl"].result_list) == [appealed]


def test_the_admin_page_of_a_waiting_complaint_offers_uphold_and_dismiss(staff_client):
    complaint = file_complaint()

    response = staff_client.get(reverse("admin:catalog_ipcomplaint_change", args=[complaint.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "uphold"]) in body
    assert reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "dismiss"]) in body
    assert reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "grant"]) not in body
    assert reverse("admin:catalog_ipcomplaint_proof", args=[complaint.pk]) in body


def test_the_admin_complaint_page_answers_a_non_numeric_id_without_an_error(client):
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get("/admin/catalog/ipcomplaint/%C2%B2/change/")

    # The admin's own answer for an id that does not exist: back to the list with a message.
    assert response.status_code == 302


def test_staff_uphold_from_admin_with_a_note(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    complaint = file_complaint()
    url = reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "uphold"])

    page = staff_client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"note": "The logo is registered to them."}, follow=True)

    assert page.status_code == 200
    assert "12 violation points" in page.content.decode()
    complaint.refresh_from_db()
    complaint.product.refresh_from_db()
    assert complaint.status == IPComplaint.Status.UPHELD
    assert complaint.product.status == ProductStatus.PLATFORM_DEACTIVATED
    assert Violation.objects.get().points == 12
    assert "upheld" in response.content.decode()
    assert complaint.product.seller.owner.email in {message.to[0] for message in mailoutbox}


def test_a_decision_without_a_note_shows_the_error_and_changes_nothing(staff_client):
    complaint = file_complaint()

    response = staff_client.post(
        reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "dismiss"]), {"note": ""}
    )

    assert response.status_code == 400
    assert response.context["form"].errors["note"]
    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.SUBMITTED


def test_staff_dismiss_grant_and_deny_from_admin(staff_client):
    dismissed = file_complaint()
    granted = appealed_complaint()
    denied = appealed_complaint()

    for complaint, decision in ((dismissed, "dismiss"), (granted, "grant"), (denied, "deny")):
        response = staff_client.post(
            reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, decision]),
            {"note": "Decided."},
        )
        assert response.status_code == 302

    for complaint in (dismissed, granted, denied):
        complaint.refresh_from_db()
        complaint.product.refresh_from_db()
    assert dismissed.status == IPComplaint.Status.DISMISSED
    assert granted.appeal_status == IPComplaint.AppealStatus.GRANTED
    assert granted.product.status == ProductStatus.LIVE
    assert denied.appeal_status == IPComplaint.AppealStatus.DENIED
    assert denied.product.status == ProductStatus.PLATFORM_DEACTIVATED


def test_an_illegal_decision_in_admin_is_refused_with_a_message(staff_client):
    complaint = upheld_complaint()

    response = staff_client.post(
        reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "uphold"]),
        {"note": "Again."},
        follow=True,
    )

    assert "already decided" in response.content.decode()
    assert Violation.objects.count() == 1


def test_staff_download_proof_and_evidence_as_attachments(staff_client):
    complaint = appealed_complaint()

    for name in ("admin:catalog_ipcomplaint_proof", "admin:catalog_ipcomplaint_evidence"):
        response = staff_client.get(reverse(name, args=[complaint.pk]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == PDF_BYTES


def test_staff_download_a_proof_sandboxed_under_a_clean_name(client):
    complaint = file_complaint(
        proof_upload=SimpleUploadedFile(
            "cert\u202efdp.png\u200b.pdf", PDF_BYTES, content_type="application/pdf"
        )
    )
    client.force_login(StaffUserFactory(is_superuser=True))

    response = client.get(reverse("admin:catalog_ipcomplaint_proof", args=[complaint.pk]))

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert IPComplaint.objects.get(pk=complaint.pk).proof_name == "certfdp.png.pdf"


def test_evidence_that_was_never_uploaded_answers_404_in_admin(staff_client):
    complaint = file_complaint()

    response = staff_client.get(reverse("admin:catalog_ipcomplaint_evidence", args=[complaint.pk]))

    assert response.status_code == 404


def test_staff_without_permissions_cannot_decide_or_download(client):
    complaint = file_complaint()
    client.force_login(UserFactory(is_staff=True))

    decide = client.post(
        reverse("admin:catalog_ipcomplaint_decide", args=[complaint.pk, "uphold"]), {"note": "x"}
    )
    proof = client.get(reverse("admin:catalog_ipcomplaint_proof", args=[complaint.pk]))

    assert decide.status_code == 403
    assert proof.status_code == 403
    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.SUBMITTED


def test_bulk_uploads_are_read_only_in_admin(staff_client):
    bulk_upload = BulkUpload.objects.create(
        seller=ApprovedSellerFactory(),
        file="bulk_uploads/x.csv",
        original_name="products.csv",
        rejected_rows=[{"row": 2, "errors": ["Price: bad."]}],
    )

    listing = staff_client.get(reverse("admin:catalog_bulkupload_changelist"))
    detail = staff_client.get(reverse("admin:catalog_bulkupload_change", args=[bulk_upload.pk]))

    assert listing.status_code == 200
    assert detail.status_code == 200
    assert "Price: bad." in detail.content.decode()
    assert staff_client.get(reverse("admin:catalog_bulkupload_add")).status_code == 403
