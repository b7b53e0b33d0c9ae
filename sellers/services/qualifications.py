"""Writes for qualifications: a seller's proof that it may list a restricted category or a brand,
and the platform's review of it."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone

from marketplace.errors import DomainError, IllegalTransition
from marketplace.notifications.services import notify
from marketplace.state import transition
from marketplace.uploads import check_document, display_file_name, stored_private_file
from policies.models import Category, PolicyStatus
from sellers.models import QUALIFICATION_MACHINE, Qualification, Seller, SellerStatus

MAX_BRAND_NAME_LENGTH = 120
# Each pending qualification holds a stored document; the cap keeps one seller from filling the
# disk (or the review queue) with distinct brand names.
MAX_PENDING_QUALIFICATIONS = 20


class QualificationRefused(DomainError):
    code = "qualification_refused"


def qualification_submit(
    *,
    seller: Seller,
    kind: str,
    document,
    submitted_by,
    category: Category | None = None,
    brand_name: str = "",
    expires_on: date | None = None,
) -> Qualification:
    """Store the document privately and queue the qualification for review.

    Raises QualificationRefused (nothing written, no file kept) for a category that is not
    restricted, a missing brand, an expiry date already past, a document that is not a genuine
    PDF/JPEG/PNG, a subject that already has a qualification pending review, or more than
    MAX_PENDING_QUALIFICATIONS waiting. Locks the seller row, so two clicks cannot queue the same
    subject twice.
    """
    if seller.status == SellerStatus.CLOSED:
        raise QualificationRefused("A closed shop cannot submit qualifications.")
    if expires_on is not None and expires_on < timezone.localdate():
        raise QualificationRefused(
            "This document has already expired. Upload a document that is still valid."
        )
    brand_name = " ".join((brand_name or "").split())
    if kind == Qualification.Kind.CATEGORY:
        if category is None:
            raise QualificationRefused(
                "Choose the restricted category this document qualifies you for."
            )
        if category.policy_status != PolicyStatus.RESTRICTED:
            raise QualificationRefused(
                f"{category.name} is not a restricted category: no qualification is needed"
                + (
                    " (it is prohibited)."
                    if category.policy_status == PolicyStatus.PROHIBITED
                    else "."
                )
            )
        brand_name = ""
        same_subject = {"category": category}
    elif kind == Qualification.Kind.BRAND:
        if not brand_name:
            raise QualificationRefused("Enter the brand name this authorization is for.")
        if len(brand_name) > MAX_BRAND_NAME_LENGTH:
            raise QualificationRefused(
                f"Brand names are at most {MAX_BRAND_NAME_LENGTH} characters."
            )
        category = None
        same_subject = {"brand_name__iexact": brand_name}
    else:
        raise QualificationRefused("Choose a category qualification or a brand authorization.")

    try:
        checked = check_document(document)
    except ValidationError as error:
        raise QualificationRefused(" ".join(error.messages)) from None

    # The transaction; a refusal below deletes the stored document again.
    with stored_private_file(
        document, folder=f"qualifications/{seller.pk}", extension=checked.extension
    ) as stored_name:
        Seller.objects.select_for_update().filter(pk=seller.pk).first()
        pending = Qualification.objects.filter(seller=seller, status=Qualification.Status.PENDING)
        if pending.filter(kind=kind, **same_subject).exists():
            raise QualificationRefused(
                "A qualification for this is already waiting for review; you will hear back by email."
            )
        if pending.count() >= MAX_PENDING_QUALIFICATIONS:
            raise QualificationRefused(
                f"{MAX_PENDING_QUALIFICATIONS} qualifications are already waiting for review. "
                "Wait for the answers before sending more."
            )
        qualification = Qualification.objects.create(
            seller=seller,
            kind=kind,
            category=category,
            brand_name=brand_name,
            document=stored_name,
            original_name=display_file_name(getattr(document, "name", "")),
            content_type=checked.content_type,
            expires_on=expires_on,
            submitted_by=submitted_by,
        )
    return qualification


def _pending_for_update(qualification_id: int) -> Qualification:
    qualification = (
        # Lock only the qualification: the category join is nullable, which PostgreSQL cannot lock.
        Qualification.objects.select_for_update(of=("self",))
        .select_related("seller", "seller__owner", "category")
        .filter(pk=qualification_id)
        .first()
    )
    if qualification is None:
        raise DomainError("No such qualification.", code="not_found")
    if qualification.status != Qualification.Status.PENDING:
        raise IllegalTransition(
            f"This qualification was already {qualification.get_status_display().lower()}."
        )
    return qualification


def qualification_approve(
    *, qualification_id: int, actor, expires_on: date | None = None
) -> Qualification:
    """Approve a pending qualification and email the owner once committed. Raises
    IllegalTransition (nothing written) unless it is pending."""
    with transaction.atomic():
        qualification = _pending_for_update(qualification_id)
        fields = {"rejection_reason": "", "reviewed_by": actor, "reviewed_at": timezone.now()}
        if expires_on is not None:
            fields["expires_on"] = expires_on
        transition(
            QUALIFICATION_MACHINE,
            instance=qualification,
            to_status=Qualification.Status.APPROVED,
            actor=actor,
            fields=fields,
        )
        _notify_review(qualification)
    return qualification


def qualification_reject(*, qualification_id: int, actor, reason: str) -> Qualification:
    """Reject a pending qualification with a reason the seller sees, and email the owner once
    committed. Raises DomainError for an empty reason, IllegalTransition unless pending."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the seller a reason for the rejection.", code="reason_required")
    with transaction.atomic():
        qualification = _pending_for_update(qualification_id)
        transition(
            QUALIFICATION_MACHINE,
            instance=qualification,
            to_status=Qualification.Status.REJECTED,
            actor=actor,
            fields={
                "rejection_reason": reason,
                "reviewed_by": actor,
                "reviewed_at": timezone.now(),
            },
        )
        _notify_review(qualification)
    return qualification


def qualification_subject(qualification: Qualification) -> str:
    if qualification.kind == Qualification.Kind.CATEGORY:
        return qualification.category.name if qualification.category else "a category"
    return qualification.brand_name


def _notify_review(qualification: Qualification) -> None:
    seller = qualification.seller
    outcome = "approved" if qualification.status == Qualification.Status.APPROVED else "rejected"
    expires_on = qualification.expires_on
    notify(
        kind=f"seller.qualification_{outcome}",
        key=f"qualification-review:{qualification.pk}:{outcome}",
        to_email=seller.owner.email,
        user=seller.owner,
        about=f"qualification:{qualification.pk}",
        subject_template=f"sellers/email/qualification_{outcome}_subject.txt",
        body_template=f"sellers/email/qualification_{outcome}.txt",
        context={
            "shop_name": seller.shop_name,
            "kind": qualification.kind,
            "kind_label": qualification.get_kind_display().lower(),
            "subject": qualification_subject(qualification),
            "expires_on": formats.date_format(expires_on, "j F Y") if expires_on else "",
            "rejection_reason": qualification.rejection_reason,
        },
    )
