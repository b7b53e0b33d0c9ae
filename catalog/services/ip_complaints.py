"""Intellectual-property complaints: notice and takedown, and the seller's one appeal.

A rights owner (any signed-in person) files a complaint with proof against a live product. The
seller hears nothing until staff decide: an upheld complaint takes the product down
(platform_deactivated), records a violation with IP_VIOLATION_POINTS points and tells the seller
and the complainant; a dismissed one tells the complainant. The seller (its owner or an admin)
may appeal an upheld complaint once, with evidence; staff grant the appeal (the product goes back
on sale; the violation stays on record, as violations are history) or deny it.

Each step locks the complaint row and refuses, changing nothing, when the complaint is not in the
state the step starts from. Documents are checked with marketplace.uploads.check_document and
stored privately under server-generated names.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import (
    IP_APPEAL_MACHINE,
    IP_COMPLAINT_MACHINE,
    IPComplaint,
    Product,
    ProductStatus,
)
from catalog.services.products import product_transition
from marketplace.errors import DomainError, IllegalTransition
from marketplace.notifications.services import notify
from marketplace.state import transition
from marketplace.uploads import check_document, display_file_name, stored_private_file
from sellers.models import SellerMember, SellerRole, Violation
from sellers.services.violations import violation_record

# Points an upheld complaint adds to the seller's record (see EnforcementSettings for what the
# totals lead to).
IP_VIOLATION_POINTS = 12
# A product the seller paused can still be taken down: pausing must not dodge a takedown.
TAKEDOWN_FROM = frozenset({ProductStatus.LIVE, ProductStatus.SELLER_DEACTIVATED})
VIOLATION_RULE = "ip_complaint_upheld"
# Only these roles may speak for the shop in an appeal.
ROLES_THAT_APPEAL = frozenset({SellerRole.OWNER, SellerRole.ADMIN})

MAX_RIGHTS_OWNER_LENGTH = 200
MAX_REGISTRATION_NUMBER_LENGTH = 100
MAX_TEXT_LENGTH = 5_000


class IPComplaintRefused(DomainError):
    """The request cannot be carried out; nothing was written. `field` names the form field the
    message belongs next to ("" for the form as a whole)."""

    code = "ip_complaint_refused"

    def __init__(self, message: str, *, field: str = "", code: str | None = None):
        super().__init__(message, code=code)
        self.field = field


class IPComplaintNotFound(DomainError):
    code = "not_found"


def ip_complaint_reference(complaint: IPComplaint) -> str:
    """The reference people quote in emails and replies (the model owns its shape)."""
    return complaint.reference


# --- Filing ------------------------------------------------------------------------------------


def ip_complaint_file(
    *,
    product_id: int,
    complainant,
    right_type: str,
    rights_owner: str,
    registration_number: str = "",
    description: str,
    proof_upload,
) -> IPComplaint:
    """File a complaint against a live product and store its proof privately. The seller is not
    told: staff decide first. The complainant gets an acknowledgement with the reference once
    committed.

    Raises IPComplaintRefused (nothing written, no file kept) for a product that is not live, a
    complainant who works for the product's seller, a complaint already pending from the same
    person on the same product, missing details, or proof that is not a genuine PDF/JPEG/PNG.
    """
    rights_owner = " ".join((rights_owner or "").split())
    registration_number = " ".join((registration_number or "").split())
    description = (description or "").strip()
    if right_type not in IPComplaint.RightType.values:
        raise IPComplaintRefused("Choose a trademark, copyright or patent.", field="right_type")
    if not rights_owner:
        raise IPComplaintRefused("Name the owner of the right.", field="rights_owner")
    if len(rights_owner) > MAX_RIGHTS_OWNER_LENGTH:
        raise IPComplaintRefused(
            f"Keep the name under {MAX_RIGHTS_OWNER_LENGTH} characters.", field="rights_owner"
        )
    if len(registration_number) > MAX_REGISTRATION_NUMBER_LENGTH:
        raise IPComplaintRefused(
            f"Keep the number under {MAX_REGISTRATION_NUMBER_LENGTH} characters.",
            field="registration_number",
        )
    if not description:
        raise IPComplaintRefused(
            "Describe what on the listing infringes the right.", field="description"
        )
    if len(description) > MAX_TEXT_LENGTH:
        raise IPComplaintRefused(
            f"Keep the description under {MAX_TEXT_LENGTH:,} characters.", field="description"
        )
    if proof_upload is None:
        raise IPComplaintRefused("Attach your proof of the right.", field="proof")
    try:
        checked = check_document(proof_upload)
    except ValidationError as error:
        raise IPComplaintRefused(" ".join(error.messages), field="proof") from None

    # The transaction; a refusal below deletes the stored proof again (no row, no file).
    with stored_private_file(
        proof_upload, folder=f"ip_complaints/{product_id}", extension=checked.extension
    ) as stored_name:
        # The product row is locked so a takedown or a status change cannot slip in between the
        # check that it is live and the complaint's creation.
        product = Product.objects.select_for_update().filter(pk=product_id).first()
        if product is None or product.status != ProductStatus.LIVE:
            raise IPComplaintRefused(
                "Complaints can only be filed against a product that is on sale.",
                code="product_not_live",
            )
        if SellerMember.objects.filter(seller_id=product.seller_id, user=complainant).exists():
            raise IPComplaintRefused(
                "You work for this product's shop; change the listing in the Seller Center "
                "instead.",
                code="own_product",
            )
        pending = IPComplaint.objects.filter(
            product=product, complainant=complainant, status=IPComplaint.Status.SUBMITTED
        ).first()
        if pending is not None:
            raise IPComplaintRefused(
                f"Your complaint {ip_complaint_reference(pending)} about this product is "
                "already being reviewed.",
                code="already_pending",
            )
        complaint = IPComplaint.objects.create(
            product=product,
            complainant=complainant,
            right_type=right_type,
            rights_owner=rights_owner,
            registration_number=registration_number,
            description=description,
            proof=stored_name,
            proof_name=_upload_name(proof_upload, "proof"),
        )
        _email_complainant(complaint, "ip_received")
    return complaint


# --- Staff decisions ---------------------------------------------------------------------------


def _locked_complaint(complaint_id: int) -> IPComplaint:
    complaint = (
        # Lock the complaint alone: the product and the seller are locked by their own services.
        IPComplaint.objects.select_for_update(of=("self",))
        .select_related("product", "product__seller", "product__seller__owner", "complainant")
        .filter(pk=complaint_id)
        .first()
    )
    if complaint is None:
        raise IPComplaintNotFound("No such complaint.")
    return complaint


def _require_note(note: str, who: str) -> str:
    note = (note or "").strip()
    if not note:
        raise IPComplaintRefused(f"Write the note {who} will read.", field="note")
    return note


def _require_submitted(complaint: IPComplaint) -> None:
    if complaint.status != IPComplaint.Status.SUBMITTED:
        raise IllegalTransition(
            f"Complaint {ip_complaint_reference(complaint)} was already decided "
            f"({complaint.get_status_display().lower()})."
        )


def ip_complaint_uphold(*, complaint_id: int, actor, note: str) -> IPComplaint:
    """Uphold a submitted complaint: the product goes platform_deactivated, the seller gets a
    violation of IP_VIOLATION_POINTS points, and the seller's owner and the complainant are emailed
    once committed.

    Raises IPComplaintRefused without a note, IllegalTransition when the complaint was already
    decided or the product is neither live nor paused by the seller; nothing is written.
    """
    note = _require_note(note, "the seller and the complainant")
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _require_submitted(complaint)
        product = complaint.product
        reference = ip_complaint_reference(complaint)
        if product.status not in TAKEDOWN_FROM:
            raise IllegalTransition(
                f"The product is {product.get_status_display().lower()} now, so there is nothing "
                "to take down. Dismiss the complaint instead."
            )
        product_transition(
            product_id=product.pk,
            to_status=ProductStatus.PLATFORM_DEACTIVATED,
            actor=actor,
            message=f"Taken down: intellectual-property complaint {reference} upheld. {note}",
        )
        product.refresh_from_db(fields=["status", "updated_at"])
        violation_record(
            seller_id=product.seller_id,
            kind=Violation.Kind.INTELLECTUAL_PROPERTY,
            points=IP_VIOLATION_POINTS,
            reason=(
                f"{complaint.get_right_type_display()} complaint {reference} upheld against "
                f"“{product.title}”: {note}"
            ),
            recorded_by=actor,
            rule=VIOLATION_RULE,
        )
        _decide(complaint, IPComplaint.Status.UPHELD, actor, note)
        _email_seller(complaint, "ip_upheld_seller")
        _email_complainant(complaint, "ip_upheld_complainant")
    return complaint


def ip_complaint_dismiss(*, complaint_id: int, actor, note: str) -> IPComplaint:
    """Dismiss a submitted complaint and email the complainant once committed (the seller was
    never told of it). Raises IPComplaintRefused without a note, IllegalTransition when already
    decided; nothing is written."""
    note = _require_note(note, "the complainant")
    with transaction.atomic():
        complaint = _locked_complaint(complaint_id)
        _require_submitted(complaint)
        _decide(complaint, IPComplaint.Status.DISMISSED, actor, note)
        _email_complainant(complaint, "ip_dismissed_complainant")
    return complaint


# --- The seller's appeal -----------------------------------------------------------------------


def ip_complaint_appeal(
    *, complaint_id: int, seller, actor, text: str, evidence_upload
) -> IPComplaint:
    """The seller's one appeal against an upheld complaint, with evidence stored privately.

    Raises IPComplaintNotFound when the complaint is not about one of `seller`'s products (say 404),
    IPComplaintRefused (nothing written, no file kept) when `actor` is not the shop's owner or an
    admin, the text is missing or the evidence is not a genuine PDF/JPEG/PNG, and
    IllegalTransition when the complaint is not upheld or was already appealed.
    """
    member = SellerMember.objects.filter(seller=seller, user=actor).first()
    if member is None or member.role not in ROLES_THAT_APPEAL:
        raise IPComplaintRefused(
            "Only the shop's owner or an admin can appeal a decision.", code="role"
        )
    text = (text or "").strip()
    if not text:
        raise IPComplaintRefused("Explain why the decision should be reversed.", field="text")
    if len(text) > MAX_TEXT_LENGTH:
        raise IPComplaintRefused(
            f"Keep the explanation under {MAX_TEXT_LENGTH:,} characters.", field="text"
        )
    if evidence_upload is None:
        raise IPComplaintRefused(
            "Attach your evidence, such as a licence or an invoice from the rights owner.",
            field="evidence",
        )
    try:
        checked = check_document(evidence_upload)
    except ValidationError as error:
        raise IPComplaintRefused(" ".join(error.messages), field="evidence") from None

    # The transaction; a refusal below deletes the stored evidence again.
    with stored_private_file(
        evidence_upload, folder=f"ip_appeals/{seller.pk}", extension=checked.extension
    ) as stored_name:
        complaint = _locked_complaint(complaint_id)
        if complaint.product.seller_id != seller.pk:
            raise IPComplaintNotFound("No such complaint.")
        if complaint.status != IPComplaint.Status.UPHELD:
            raise IllegalTransition("Only an upheld complaint can be appealed.")
        if complaint.appeal_status != IPComplaint.AppealStatus.NONE:
            raise IllegalTransition(
                f"This decision was already appealed ({complaint.get_appeal_status_display().lower()}); "
                "each decision can be appealed once."
            )
        transition(
            IP_APPEAL_MACHINE,
            instance=complaint,
            to_status=IPComplaint.AppealStatus.SUBMITTED,
            actor=actor,
            fields={
                "appeal_text": text,
                "appeal_evidence": stored_name,
                "appeal_evidence_name": _upload_name(evidence_upload, "evidence"),
                "appeal_submitted_at": timezone.now(),
            },
        )
    return complaint


def _locked_appeal(complaint_id: int) -> IPComplaint:
    complaint = _locked_complaint(complaint_id)
    if complaint.appeal_status != IPComplaint.AppealStatus.SUBMITTED:
        raise IllegalTransition(
            f"Complaint {ip_complaint_reference(complaint)} has no appeal waiting for a decision "
            f"({complaint.get_appeal_status_display().lower()})."
        )
    return complaint


def ip_appeal_grant(*, complaint_id: int, actor, note: str) -> IPComplaint:
    """Grant the seller's appeal: the product goes back on sale (platform_deactivated -> live) and
    the owner is emailed once committed. The violation stays on record: violations are history
    (admin cannot delete them either), so the note is where the reversal is explained.

    Raises IPComplaintRefused without a note, IllegalTransition when no appeal is waiting or the
    product is no longer platform_deactivated; nothing is written.
    """
    note = _require_note(note, "the seller")
    with transaction.atomic():
        complaint = _locked_appeal(complaint_id)
        product_transition(
            product_id=complaint.product_id,
            to_status=ProductStatus.LIVE,
            actor=actor,
            message=f"Restored: appeal on complaint {ip_complaint_reference(complaint)} granted. "
            f"{note}",
        )
        complaint.product.refresh_from_db(fields=["status"])
        _decide_appeal(complaint, IPComplaint.AppealStatus.GRANTED, actor, note)
        _email_seller(complaint, "ip_appeal_granted")
    return complaint


def ip_appeal_deny(*, complaint_id: int, actor, note: str) -> IPComplaint:
    """Deny the seller's appeal (the product stays down) and email the owner once committed.
    Raises IPComplaintRefused without a note, IllegalTransition when no appeal is waiting."""
    note = _require_note(note, "the seller")
    with transaction.atomic():
        complaint = _locked_appeal(complaint_id)
        _decide_appeal(complaint, IPComplaint.AppealStatus.DENIED, actor, note)
        _email_seller(complaint, "ip_appeal_denied")
    return complaint


def _decide(complaint: IPComplaint, status: str, actor, note: str) -> None:
    transition(
        IP_COMPLAINT_MACHINE,
        instance=complaint,
        to_status=status,
        actor=actor,
        fields={"decision_note": note, "decided_by": actor, "decided_at": timezone.now()},
    )


def _decide_appeal(complaint: IPComplaint, status: str, actor, note: str) -> None:
    transition(
        IP_APPEAL_MACHINE,
        instance=complaint,
        to_status=status,
        actor=actor,
        fields={
            "appeal_note": note,
            "appeal_decided_by": actor,
            "appeal_decided_at": timezone.now(),
        },
    )


# --- Helpers -----------------------------------------------------------------------------------


def _upload_name(upload, fallback: str) -> str:
    # Kept only to show staff what the person called the file; the stored name is our own.
    # display_file_name drops paths and bidirectional-override characters, so a name cannot
    # pose as another file type on the reviewer's screen or in the download.
    return display_file_name(getattr(upload, "name", ""), default=fallback)


def _notify(complaint: IPComplaint, template: str, recipient) -> None:
    """In the transaction of the step: one email per complaint, step and recipient."""
    product = complaint.product
    notify(
        kind=f"catalog.{template}",
        key=f"ip-complaint:{complaint.pk}:{template}",
        to_email=recipient.email,
        user=recipient,
        about=f"ip-complaint:{complaint.pk}",
        subject_template=f"catalog/email/{template}_subject.txt",
        body_template=f"catalog/email/{template}.txt",
        context={
            "reference": ip_complaint_reference(complaint),
            "title": product.title,
            "shop_name": product.seller.shop_name,
            "right_type": complaint.get_right_type_display().lower(),
            "rights_owner": complaint.rights_owner,
            "decision_note": complaint.decision_note,
            "appeal_note": complaint.appeal_note,
            "points": IP_VIOLATION_POINTS,
        },
    )


def _email_complainant(complaint: IPComplaint, template: str) -> None:
    _notify(complaint, template, complaint.complainant)


def _email_seller(complaint: IPComplaint, template: str) -> None:
    _notify(complaint, template, complaint.product.seller.owner)
