"""Intellectual-property complaints: filing, staff decisions, the seller's one appeal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import IPComplaint, ProductStatus, ProductStatusEvent
from catalog.services.ip_complaints import (
    IP_VIOLATION_POINTS,
    IPComplaintNotFound,
    IPComplaintRefused,
    ip_appeal_deny,
    ip_appeal_grant,
    ip_complaint_appeal,
    ip_complaint_dismiss,
    ip_complaint_reference,
    ip_complaint_uphold,
)
from marketplace.errors import IllegalTransition
from sellers.models import SellerRole, Violation
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
from tests.sellers.factories import SellerMemberFactory

pytestmark = pytest.mark.django_db

# --- Filing ----------------------------------------------------------------------------------


def test_a_complaint_is_filed_with_its_proof_stored_privately(
    settings, mailoutbox, django_capture_on_commit_callbacks
):
    product = LiveProductFactory()
    complainant = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        complaint = file_complaint(product=product, complainant=complainant)

    assert complaint.status == IPComplaint.Status.SUBMITTED
    assert complaint.proof_name == "certificate.pdf"
    assert complaint.proof.name.startswith(f"ip_complaints/{product.pk}/")
    assert "certificate" not in complaint.proof.name
    assert private_files(settings)[0].read_bytes() == PDF_BYTES
    assert ip_complaint_reference(complaint) == f"IP-{complaint.pk:06d}"
    # Notice and takedown: the complainant gets a receipt, the seller hears nothing yet.
    assert [message.to for message in mailoutbox] == [[complainant.email]]
    assert ip_complaint_reference(complaint) in mailoutbox[0].subject


@pytest.mark.parametrize(
    "status",
    [
        ProductStatus.DRAFT,
        ProductStatus.PENDING_REVIEW,
        ProductStatus.SELLER_DEACTIVATED,
        ProductStatus.PLATFORM_DEACTIVATED,
        ProductStatus.DELETED,
    ],
)
def test_a_product_that_is_not_live_cannot_be_complained_about(settings, status):
    product = ProductFactory(status=status)

    with pytest.raises(IPComplaintRefused) as error:
        file_complaint(product=product)

    assert error.value.code == "product_not_live"
    assert not IPComplaint.objects.exists()
    assert private_files(settings) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"proof_upload": fake_pdf_upload()}, "proof"),
        (
            {"proof_upload": SimpleUploadedFile("proof.exe", b"MZ\x90\x00", "application/pdf")},
            "proof",
        ),
        ({"proof_upload": None}, "proof"),
        ({"rights_owner": "  "}, "rights_owner"),
        ({"description": ""}, "description"),
        ({"right_type": "design"}, "right_type"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(settings, overrides, field):
    with pytest.raises(IPComplaintRefused) as error:
        file_complaint(**overrides)

    assert error.value.field == field
    assert not IPComplaint.objects.exists()
    assert private_files(settings) == []


def test_the_sellers_own_staff_cannot_file_against_its_products(settings):
    product = LiveProductFactory()

    with pytest.raises(IPComplaintRefused) as error:
        file_complaint(product=product, complainant=product.seller.owner)

    assert error.value.code == "own_product"
    assert not IPComplaint.objects.exists()
    assert private_files(settings) == []


def test_a_second_complaint_while_the_first_is_pending_is_refused():
    product = LiveProductFactory()
    complainant = UserFactory()
    first = file_complaint(product=product, complainant=complainant)

    with pytest.raises(IPComplaintRefused, match=ip_complaint_reference(first)):
        file_complaint(product=product, complainant=complainant)

    assert IPComplaint.objects.count() == 1


# --- Staff decisions -------------------------------------------------------------------------


def test_upholding_takes_the_product_down_records_points_and_tells_both_sides(
    mailoutbox, django_capture_on_commit_callbacks
):
    complaint = file_complaint()
    staff = StaffUserFactory()
    product = complaint.product
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ip_complaint_uphold(complaint_id=complaint.pk, actor=staff, note="The logo is theirs.")

    complaint.refresh_from_db()
    product.refresh_from_db()
    assert complaint.status == IPComplaint.Status.UPHELD
    assert (complaint.decided_by, complaint.decision_note) == (staff, "The logo is theirs.")
    assert product.status == ProductStatus.PLATFORM_DEACTIVATED
    event = ProductStatusEvent.objects.filter(product=product).latest("id")
    assert (event.from_status, event.to_status, event.actor) == (
        "live",
        "platform_deactivated",
        staff,
    )
    violation = Violation.objects.get(seller=product.seller)
    assert violation.kind == Violation.Kind.INTELLECTUAL_PROPERTY
    assert violation.points == IP_VIOLATION_POINTS == 12
    assert ip_complaint_reference(complaint) in violation.reason
    recipients = {message.to[0]: message for message in mailoutbox}
    assert set(recipients) >= {product.seller.owner.email, complaint.complainant.email}
    assert "taken down" in recipients[product.seller.owner.email].subject
    assert "The logo is theirs." in recipients[product.seller.owner.email].body
    assert "upheld" in recipients[complaint.complainant.email].subject


def test_a_decided_complaint_cannot_be_decided_again():
    complaint = upheld_complaint()

    with pytest.raises(IllegalTransition):
        ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Again.")
    with pytest.raises(IllegalTransition):
        ip_complaint_dismiss(complaint_id=complaint.pk, actor=StaffUserFactory(), note="No.")

    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.UPHELD
    assert Violation.objects.count() == 1


def test_upholding_takes_down_a_product_the_seller_paused():
    complaint = file_complaint()
    complaint.product.__class__.objects.filter(pk=complaint.product_id).update(
        status=ProductStatus.SELLER_DEACTIVATED
    )

    ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Theirs.")

    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.UPHELD
    assert complaint.product.status == ProductStatus.PLATFORM_DEACTIVATED
    assert Violation.objects.count() == 1


def test_upholding_when_the_product_is_deleted_changes_nothing():
    complaint = file_complaint()
    complaint.product.__class__.objects.filter(pk=complaint.product_id).update(
        status=ProductStatus.DELETED
    )

    with pytest.raises(IllegalTransition, match="nothing to take down"):
        ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Theirs.")

    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.SUBMITTED
    assert not Violation.objects.exists()


def test_a_decision_needs_a_note():
    complaint = file_complaint()

    with pytest.raises(IPComplaintRefused):
        ip_complaint_uphold(complaint_id=complaint.pk, actor=StaffUserFactory(), note="  ")

    complaint.refresh_from_db()
    assert complaint.status == IPComplaint.Status.SUBMITTED
    assert complaint.product.status == ProductStatus.LIVE


def test_dismissing_keeps_the_product_on_sale_and_tells_only_the_complainant(
    mailoutbox, django_capture_on_commit_callbacks
):
    complaint = file_complaint()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ip_complaint_dismiss(
            complaint_id=complaint.pk, actor=StaffUserFactory(), note="Different logo."
        )

    complaint.refresh_from_db()
    complaint.product.refresh_from_db()
    assert complaint.status == IPComplaint.Status.DISMISSED
    assert complaint.product.status == ProductStatus.LIVE
    assert not Violation.objects.exists()
    assert [message.to for message in mailoutbox] == [[complaint.complainant.email]]
    assert "Different logo." in mailoutbox[0].body


# --- The appeal ------------------------------------------------------------------------------


def test_the_owner_appeals_an_upheld_complaint_once_with_evidence(settings):
    complaint = upheld_complaint()
    seller = complaint.product.seller

    appealed = ip_complaint_appeal(
        complaint_id=complaint.pk,
        seller=seller,
        actor=seller.owner,
        text="We hold a licence.",
        evidence_upload=pdf_upload("licence.pdf"),
    )

    assert appealed.appeal_status == IPComplaint.AppealStatus.SUBMITTED
    assert appealed.appeal_evidence.name.startswith(f"ip_appeals/{seller.pk}/")
    assert appealed.appeal_evidence_name == "licence.pdf"
    assert appealed.appeal_submitted_at is not None
    assert len(private_files(settings)) == 2


def test_a_second_appeal_is_refused_and_changes_nothing(settings):
    complaint = appealed_complaint()
    seller = complaint.product.seller
    files_before = private_files(settings)

    with pytest.raises(IllegalTransition, match="appealed once"):
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=seller,
            actor=seller.owner,
            text="Another try.",
            evidence_upload=pdf_upload(),
        )

    complaint.refresh_from_db()
    assert complaint.appeal_text == "We hold a licence."
    assert private_files(settings) == files_before


def test_an_appeal_after_a_decided_appeal_is_refused(settings):
    complaint = appealed_complaint()
    ip_appeal_deny(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Not enough.")
    seller = complaint.product.seller
    files_before = private_files(settings)

    with pytest.raises(IllegalTransition):
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=seller,
            actor=seller.owner,
            text="Please.",
            evidence_upload=pdf_upload(),
        )

    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.DENIED
    assert complaint.appeal_text == "We hold a licence."
    assert private_files(settings) == files_before


def test_an_admin_may_appeal_but_a_product_manager_may_not():
    complaint = upheld_complaint()
    seller = complaint.product.seller
    admin_member = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN)
    product_manager = SellerMemberFactory(seller=seller, role=SellerRole.PRODUCT_MANAGER)

    with pytest.raises(IPComplaintRefused, match="owner or an admin"):
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=seller,
            actor=product_manager.user,
            text="Licence.",
            evidence_upload=pdf_upload(),
        )
    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE

    ip_complaint_appeal(
        complaint_id=complaint.pk,
        seller=seller,
        actor=admin_member.user,
        text="Licence.",
        evidence_upload=pdf_upload(),
    )
    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.SUBMITTED


def test_another_seller_cannot_appeal_someone_elses_complaint():
    complaint = upheld_complaint()
    other_seller = LiveProductFactory().seller

    with pytest.raises(IPComplaintNotFound):
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=other_seller,
            actor=other_seller.owner,
            text="Mine now.",
            evidence_upload=pdf_upload(),
        )

    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE


def test_only_an_upheld_complaint_can_be_appealed(settings):
    complaint = file_complaint()
    ip_complaint_dismiss(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Fine.")
    seller = complaint.product.seller
    files_before = private_files(settings)

    with pytest.raises(IllegalTransition, match="Only an upheld complaint"):
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=seller,
            actor=seller.owner,
            text="Why?",
            evidence_upload=pdf_upload(),
        )

    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE
    assert complaint.appeal_text == ""
    assert private_files(settings) == files_before


def test_invalid_evidence_is_refused_and_nothing_is_written(settings):
    complaint = upheld_complaint()
    seller = complaint.product.seller
    files_before = private_files(settings)

    with pytest.raises(IPComplaintRefused) as error:
        ip_complaint_appeal(
            complaint_id=complaint.pk,
            seller=seller,
            actor=seller.owner,
            text="Licence.",
            evidence_upload=fake_pdf_upload(),
        )

    assert error.value.field == "evidence"
    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE
    assert private_files(settings) == files_before


def test_granting_the_appeal_puts_the_product_back_on_sale_and_keeps_the_violation(
    mailoutbox, django_capture_on_commit_callbacks
):
    complaint = appealed_complaint()
    staff = StaffUserFactory()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ip_appeal_grant(complaint_id=complaint.pk, actor=staff, note="The licence checks out.")

    complaint.refresh_from_db()
    complaint.product.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.GRANTED
    assert (complaint.appeal_note, complaint.appeal_decided_by) == (
        "The licence checks out.",
        staff,
    )
    assert complaint.status == IPComplaint.Status.UPHELD
    assert complaint.product.status == ProductStatus.LIVE
    assert Violation.objects.filter(seller=complaint.product.seller).count() == 1
    assert [message.to for message in mailoutbox] == [[complaint.product.seller.owner.email]]
    assert "granted" in mailoutbox[0].subject


def test_denying_the_appeal_keeps_the_product_down(mailoutbox, django_capture_on_commit_callbacks):
    complaint = appealed_complaint()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        ip_appeal_deny(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Expired licence.")

    complaint.refresh_from_db()
    complaint.product.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.DENIED
    assert complaint.product.status == ProductStatus.PLATFORM_DEACTIVATED
    assert "denied" in mailoutbox[0].subject
    assert "Expired licence." in mailoutbox[0].body


def test_an_appeal_decision_needs_a_waiting_appeal():
    complaint = upheld_complaint()

    with pytest.raises(IllegalTransition):
        ip_appeal_grant(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Yes.")
    with pytest.raises(IllegalTransition):
        ip_appeal_deny(complaint_id=complaint.pk, actor=StaffUserFactory(), note="No.")

    complaint.refresh_from_db()
    complaint.product.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.NONE
    assert complaint.product.status == ProductStatus.PLATFORM_DEACTIVATED


def test_a_decided_appeal_cannot_be_decided_again():
    complaint = appealed_complaint()
    ip_appeal_grant(complaint_id=complaint.pk, actor=StaffUserFactory(), note="Yes.")

    with pytest.raises(IllegalTransition):
        ip_appeal_deny(complaint_id=complaint.pk, actor=StaffUserFactory(), note="No after all.")

    complaint.refresh_from_db()
    assert complaint.appeal_status == IPComplaint.AppealStatus.GRANTED
