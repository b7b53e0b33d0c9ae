"""Writes for qualifications: a seller's proof that it may list a restricted category or a brand,
and the platform's review of it."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from marketplace.errors import DomainError, IllegalTransition
from marketplace.uploads import (
    check_document,
    display_file_name,
    private_storage,
    private_upload_path,
)
from policies.models import Category, PolicyStatus
from sellers.models import Qualification, Seller, SellerStatus

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

    with transaction.atomic():
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
        stored_name = private_storage.save(
            private_upload_path(f"qualifications/{seller.pk}", checked.extension), document
        )
        try:
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
        except Exception:
            # No row, no file: an orphaned document would be unreviewable and never deleted.
            private_storage.delete(stored_name)
            raise
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
        qualification.status = Qualification.Status.APPROVED
        qualification.rejection_reason = ""
        qualification.reviewed_by = actor
        qualification.reviewed_at = timezone.now()
        update_fields = ["status", "rejection_reason", "reviewed_by", "reviewed_at"]
        if expires_on is not None:
            qualification.expires_on = expires_on
            update_fields.append("expires_on")
        qualification.save(update_fields=update_fields)
        transaction.on_commit(lambda: _send_review_email(qualification))
    return qualification


def qualification_reject(*, qualification_id: int, actor, reason: str) -> Qualification:
    """Reject a pending qualification with a reason the seller sees, and email the owner once
    committed. Raises DomainError for an empty reason, IllegalTransition unless pending."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give the seller a reason for the rejection.", code="reason_required")
    with transaction.atomic():
        qualification = _pending_for_update(qualification_id)
        qualification.status = Qualification.Status.REJECTED
        qualification.rejection_reason = reason
        qualification.reviewed_by = actor
        qualification.reviewed_at = timezone.now()
        qualification.save(
            update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at"]
        )
        transaction.on_commit(lambda: _send_review_email(qualification))
    return qualification


def qualification_subject(qualification: Qualification) -> str:
    if qualification.kind == Qualification.Kind.CATEGORY:
        return qualification.category.name if qualification.category else "a category"
    return qualification.brand_name


def _send_review_email(qualification: Qualification) -> None:
    seller = qualification.seller
    approved = qualification.status == Qualification.Status.APPROVED
    context = {
        "seller": seller,
        "qualification": qualification,
        "subject": qualification_subject(qualification),
        "marketplace_name": settings.MARKETPLACE_NAME,
    }
    template = "approved" if approved else "rejected"
    send_mail(
        subject=(
            f"Your {qualification.get_kind_display().lower()} for "
            f"{qualification_subject(qualification)} was {'approved' if approved else 'not approved'}"
        ),
        message=render_to_string(f"sellers/email/qualification_{template}.txt", context),
        from_email=None,
        recipient_list=[seller.owner.email],
    )
