"""The seller application: a person applies, uploads identity papers, accepts the policies and
submits; platform staff approve, reject or ask for more; later they may suspend, reinstate or close
the shop.

Every status change goes through `seller_transition` (sellers/services/transitions.py). The writes
that depend on the application still being editable (details, documents, submission) lock the
seller row first, so a document cannot be removed in the instant between "the checklist is
complete" and "submitted".
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from marketplace.errors import DomainError, IllegalTransition
from marketplace.notifications.services import notify
from marketplace.uploads import (
    check_document,
    display_file_name,
    private_storage,
    stored_private_file,
)
from policies.models import Category
from sellers.models import (
    SELLER_TRANSITIONS,
    KycDocument,
    Seller,
    SellerMember,
    SellerRole,
    SellerStatus,
    SellerStatusEvent,
)
from sellers.selectors import seller_policies_outstanding
from sellers.services.transitions import seller_transition

# The fields a seller fills in on the application form, in form order.
APPLICATION_FIELDS = (
    "kind",
    "shop_name",
    "slug",
    "legal_name",
    "contact_email",
    "contact_phone",
    "country",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "tax_id",
    "main_category",
    "description",
)

# How the application's fields are named to the person filling it in (form labels, checklist).
FIELD_LABELS = {
    "kind": "Selling as",
    "shop_name": "Shop name",
    "slug": "Shop address",
    "legal_name": "Legal name",
    "contact_email": "Contact email",
    "contact_phone": "Contact phone",
    "country": "Country",
    "address_line1": "Address",
    "address_line2": "Address (second line)",
    "city": "City",
    "region": "State, province or region",
    "postal_code": "Postal code",
    "tax_id": "Tax ID",
    "main_category": "Main category",
    "description": "About your shop",
}

# What must be filled in before an application can be submitted (tax_id too, for businesses).
REQUIRED_TO_SUBMIT = (
    "kind",
    "shop_name",
    "slug",
    "legal_name",
    "contact_email",
    "contact_phone",
    "country",
    "address_line1",
    "city",
    "postal_code",
    "main_category",
)

# An application needs a handful of papers; the cap keeps one applicant from filling the disk.
MAX_KYC_DOCUMENTS = 20
# The shop description is shown on the public shop page; the same limit as the settings form.
MAX_DESCRIPTION_LENGTH = 2000


class AlreadyASeller(DomainError):
    code = "already_a_seller"


class NotTheOwner(DomainError):
    code = "not_the_owner"


class NotPlatformStaff(DomainError):
    code = "not_platform_staff"


class ApplicationNotEditable(DomainError):
    code = "application_not_editable"


class ApplicationInvalid(DomainError):
    """One or more fields are wrong. `field_errors` maps each field name to its messages, so a form
    can show them next to the fields."""

    code = "application_invalid"

    def __init__(self, field_errors: dict[str, list[str]]):
        self.field_errors = field_errors
        details = "; ".join(
            f"{FIELD_LABELS.get(name, name)}: {' '.join(errors)}"
            for name, errors in field_errors.items()
        )
        super().__init__(f"Please correct the application: {details}")


class ShopAddressTaken(ApplicationInvalid):
    code = "slug_taken"

    def __init__(self):
        super().__init__({"slug": ["That shop address is taken. Choose another one."]})
        self.message = "That shop address is taken. Choose another one."


class ApplicationIncomplete(DomainError):
    """The application cannot be submitted yet; `missing` lists every item still to do."""

    code = "application_incomplete"

    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__("Your application is not complete yet. " + " ".join(missing))


class DocumentRejected(DomainError):
    """The upload is not an acceptable document (type, size, contents). `code` is the reason."""

    code = "document_rejected"


class DocumentNotFound(DomainError):
    code = "document_not_found"


class TooManyDocuments(DomainError):
    code = "too_many_documents"


class ReasonRequired(DomainError):
    code = "reason_required"


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def seller_application_start(
    *,
    owner,
    kind: str,
    shop_name: str,
    slug: str,
    legal_name: str,
    contact_email: str,
    contact_phone: str,
    country: str,
    address_line1: str,
    address_line2: str,
    city: str,
    region: str,
    postal_code: str,
    tax_id: str,
    main_category: Category | None,
    description: str = "",
) -> Seller:
    """Create a draft application owned by `owner`, with `owner` as the seller's owner member.

    Raises AlreadyASeller when the person already owns a seller (even a closed one: one shop per
    person) or works for an open one; ApplicationInvalid (field_errors) when a field is wrong,
    including a business without a tax ID; ShopAddressTaken when the slug is in use.
    """
    if _person_has_seller(owner):
        raise AlreadyASeller(
            "You already have a shop or work for one, so you cannot start another application."
        )
    seller = Seller(owner=owner, status=SellerStatus.DRAFT)
    _apply_fields(
        seller,
        {
            "kind": kind,
            "shop_name": shop_name,
            "slug": slug,
            "legal_name": legal_name,
            "contact_email": contact_email,
            "contact_phone": contact_phone,
            "country": country,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "tax_id": tax_id,
            "main_category": main_category,
            "description": description,
        },
    )
    try:
        with transaction.atomic():
            seller.save()
            SellerMember.objects.create(seller=seller, user=owner, role=SellerRole.OWNER)
    except IntegrityError:
        # The unique constraints decide races; tell the person which one they hit.
        if Seller.objects.filter(slug=seller.slug).exists():
            raise ShopAddressTaken() from None
        if _person_has_seller(owner):
            raise AlreadyASeller(
                "You already have a shop or work for one, so you cannot start another application."
            ) from None
        raise
    return seller


def seller_application_update(*, seller: Seller, actor, **fields) -> Seller:
    """Change the application's details (any of APPLICATION_FIELDS) while it is a draft or more
    information was asked for.

    Raises NotTheOwner unless `actor` owns the seller; ApplicationNotEditable once submitted or
    decided; ApplicationInvalid or ShopAddressTaken as seller_application_start does. Unknown field
    names raise TypeError (a programming error, not a person's).
    """
    unknown = set(fields) - set(APPLICATION_FIELDS)
    if unknown:
        raise TypeError(f"Not application fields: {', '.join(sorted(unknown))}")
    try:
        with transaction.atomic():
            locked = _lock_editable(seller_id=seller.pk, actor=actor)
            _apply_fields(locked, fields)
            locked.save(update_fields=list(fields))
    except IntegrityError:
        if Seller.objects.filter(slug=fields.get("slug")).exclude(pk=seller.pk).exists():
            raise ShopAddressTaken() from None
        raise
    return locked


def _apply_fields(seller: Seller, fields: dict) -> None:
    """Set and validate the given fields on an unsaved or locked seller; raise ApplicationInvalid."""
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        if name == "slug":
            value = value.lower()
        setattr(seller, name, value)

    errors: dict[str, list[str]] = {}
    try:
        # Uniqueness is left to the database constraint (no check-then-act).
        seller.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
    if len(seller.description or "") > MAX_DESCRIPTION_LENGTH:
        errors.setdefault("description", []).append(
            f"Keep the description under {MAX_DESCRIPTION_LENGTH:,} characters."
        )
    if seller.kind == Seller.Kind.BUSINESS and not seller.tax_id:
        errors.setdefault("tax_id", []).append(
            "A business must give its tax ID (VAT number, EIN or company number)."
        )
    if seller.main_category is not None and seller.main_category.parent_id is not None:
        errors.setdefault("main_category", []).append(
            "Choose a top-level category as your shop's main category."
        )
    if errors:
        raise ApplicationInvalid(errors)


def _person_has_seller(user) -> bool:
    return (
        Seller.objects.filter(owner=user).exists()
        or SellerMember.objects.filter(user=user)
        .exclude(seller__status=SellerStatus.CLOSED)
        .exists()
    )


def _lock_editable(*, seller_id: int, actor) -> Seller:
    """Lock the seller row and check that `actor` may still change the application.

    The caller must be inside transaction.atomic().
    """
    seller = _lock_as_owner(seller_id=seller_id, actor=actor)
    _check_editable(seller)
    return seller


def _lock_as_owner(*, seller_id: int, actor) -> Seller:
    seller = Seller.objects.select_for_update().get(pk=seller_id)
    if actor is None or seller.owner_id != actor.pk:
        raise NotTheOwner("Only the shop's owner can change or submit the application.")
    return seller


def _check_editable(seller: Seller) -> None:
    if not seller.application_is_editable:
        raise ApplicationNotEditable(
            f"The application is {seller.get_status_display().lower()} and can no longer be "
            "changed."
        )


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


def kyc_document_add(*, seller: Seller, kind: str, upload, uploaded_by) -> KycDocument:
    """Check and store one identity or business document for the application.

    The file is stored under a server-generated name in private storage (never under MEDIA_ROOT).
    Raises DocumentRejected (code: the reason, e.g. "file_type", "file_size", "file_content",
    "image_too_large", "image_corrupt") before anything is stored; NotTheOwner;
    ApplicationNotEditable; ApplicationInvalid for an unknown kind; TooManyDocuments past
    MAX_KYC_DOCUMENTS. If the database write fails the stored file is deleted again, so nothing is
    orphaned.
    """
    if kind not in KycDocument.Kind.values:
        raise ApplicationInvalid({"kind": ["Choose what kind of document this is."]})
    try:
        checked = check_document(upload)
    except ValidationError as error:
        raise DocumentRejected(" ".join(error.messages), code=error.code) from None

    # The transaction; a refusal below deletes the stored file again.
    with stored_private_file(
        upload, folder=f"kyc/{seller.pk}", extension=checked.extension
    ) as stored_name:
        locked = _lock_editable(seller_id=seller.pk, actor=uploaded_by)
        if KycDocument.objects.filter(seller=locked).count() >= MAX_KYC_DOCUMENTS:
            raise TooManyDocuments(
                f"An application holds at most {MAX_KYC_DOCUMENTS} documents. Remove one you no "
                "longer need, then upload again."
            )
        document = KycDocument.objects.create(
            seller=locked,
            kind=kind,
            file=stored_name,
            original_name=display_file_name(upload.name),
            content_type=checked.content_type,
            size_bytes=checked.size,
            sha256=checked.sha256,
            uploaded_by=uploaded_by,
        )
    return document


def kyc_document_remove(*, seller: Seller, document_id: int, actor) -> None:
    """Delete one of the application's documents (the row now, the file once committed).

    Raises DocumentNotFound when the id is not one of this seller's documents; NotTheOwner;
    ApplicationNotEditable.
    """
    with transaction.atomic():
        locked = _lock_as_owner(seller_id=seller.pk, actor=actor)
        # Looked up before the status check: another seller's id answers "not found" whatever
        # state this application is in.
        document = KycDocument.objects.filter(seller=locked, pk=document_id).first()
        if document is None:
            raise DocumentNotFound("That document is not part of your application.")
        _check_editable(locked)
        stored_name = document.file.name
        document.delete()
        # Only once the row is gone for good: a rollback must not leave a row without its file.
        transaction.on_commit(lambda: private_storage.delete(stored_name))


# --------------------------------------------------------------------------------------------
# Submitting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    done: bool
    to_do: str  # what to do about it, shown while not done


def seller_application_checklist(*, seller: Seller) -> list[ChecklistItem]:
    """What an application needs before it can be submitted, each item done or not.

    The one definition of "complete": the submit service and the status page both read it.
    """
    blank = [name for name in REQUIRED_TO_SUBMIT if getattr(seller, name) in (None, "")]
    items = [
        ChecklistItem(
            key="details",
            label="Shop, contact and address details",
            done=not blank,
            to_do="Fill in: " + ", ".join(FIELD_LABELS[name] for name in blank) + ".",
        )
    ]
    if seller.kind == Seller.Kind.BUSINESS:
        items.append(
            ChecklistItem(
                key="tax_id",
                label="Tax ID (required for businesses)",
                done=bool(seller.tax_id),
                to_do="Enter your business's tax ID (VAT number, EIN or company number).",
            )
        )
    document_kinds = set(seller.kyc_documents.values_list("kind", flat=True))
    items.append(
        ChecklistItem(
            key="documents",
            label="At least one verification document",
            done=bool(document_kinds),
            to_do="Upload at least one document that proves who you are (ID card, passport or "
            "driving licence).",
        )
    )
    if seller.kind == Seller.Kind.BUSINESS:
        items.append(
            ChecklistItem(
                key="business_registration",
                label="Business registration certificate",
                done=KycDocument.Kind.BUSINESS_REGISTRATION in document_kinds,
                to_do="Upload your business registration certificate.",
            )
        )
    outstanding = seller_policies_outstanding(seller=seller)
    items.append(
        ChecklistItem(
            key="policies",
            label="Marketplace policies accepted",
            done=not outstanding,
            to_do="Accept the marketplace policies first: "
            + ", ".join(
                f"{version.document.title} (version {version.number})" for version in outstanding
            )
            + ".",
        )
    )
    return items


def seller_application_submit(*, seller: Seller, actor) -> Seller:
    """Send the application to platform staff for review, and confirm it to the owner by email.

    Raises NotTheOwner; ApplicationNotEditable unless it is a draft or more information was asked
    for; ApplicationIncomplete (code "application_incomplete", `missing` lists every item still to
    do: blank fields, tax ID, documents, outstanding policies).
    """
    with transaction.atomic():
        locked = _lock_editable(seller_id=seller.pk, actor=actor)
        missing = [
            item.to_do for item in seller_application_checklist(seller=locked) if not item.done
        ]
        if missing:
            raise ApplicationIncomplete(missing)
        submitted = seller_transition(
            seller_id=locked.pk, to_status=SellerStatus.SUBMITTED, actor=actor
        )
        _notify_owner(submitted, "submitted")
        return submitted


# --------------------------------------------------------------------------------------------
# Staff decisions
# --------------------------------------------------------------------------------------------

# Approve and reinstate both lead to "approved", which the transition table allows from submitted
# and from suspended; the decision says which one is meant, so approving a suspended shop (or
# reinstating an application) is refused instead of silently doing the other.
_DECISION_TARGETS = {
    "approve": SellerStatus.APPROVED,
    "reject": SellerStatus.REJECTED,
    "request_info": SellerStatus.NEEDS_INFO,
    "suspend": SellerStatus.SUSPENDED,
    "reinstate": SellerStatus.APPROVED,
    "close": SellerStatus.CLOSED,
}
_DECISION_SOURCES = {
    "approve": frozenset({SellerStatus.SUBMITTED}),
    "reinstate": frozenset({SellerStatus.SUSPENDED}),
}
_DECISION_EMAIL_EVENTS = {
    "approve": "approved",
    "reject": "rejected",
    "request_info": "needs_info",
    "suspend": "suspended",
    "reinstate": "reinstated",
    "close": "closed",
}


def seller_decision_is_legal(*, seller: Seller, decision: str) -> bool:
    """Whether staff may take `decision` (approve, reject, request_info, suspend, reinstate,
    close) on a seller in its current status. Admin uses it to show only the buttons that work."""
    target = _DECISION_TARGETS[decision]
    sources = _DECISION_SOURCES.get(decision)
    if sources is not None and seller.status not in sources:
        return False
    return target in SELLER_TRANSITIONS[seller.status]


def seller_approve(*, seller_id: int, actor) -> Seller:
    """Approve a submitted application: the shop opens. Emails the owner.

    Raises IllegalTransition (nothing changes) unless the seller is submitted; NotPlatformStaff.
    """
    return _decide(seller_id=seller_id, actor=actor, decision="approve", message="")


def seller_reject(*, seller_id: int, actor, reason: str) -> Seller:
    """Reject a submitted application, telling the owner why (by email and on the status page).

    Raises ReasonRequired for a blank reason; IllegalTransition unless submitted; NotPlatformStaff.
    """
    return _decide(
        seller_id=seller_id,
        actor=actor,
        decision="reject",
        message=_required(reason, "Give the reason for rejecting the application."),
    )


def seller_request_info(*, seller_id: int, actor, message: str) -> Seller:
    """Send a submitted application back to its owner with a request for more information; the
    owner can then edit it and submit again.

    Raises ReasonRequired for a blank message; IllegalTransition unless submitted; NotPlatformStaff.
    """
    return _decide(
        seller_id=seller_id,
        actor=actor,
        decision="request_info",
        message=_required(message, "Say what information the seller must add."),
    )


def seller_suspend(*, seller_id: int, actor, reason: str) -> Seller:
    """Suspend an approved shop (its page and products go offline), telling the owner why.

    `actor` None means an automatic rule (violation points) did it. Raises ReasonRequired for a
    blank reason; IllegalTransition unless approved; NotPlatformStaff.
    """
    return _decide(
        seller_id=seller_id,
        actor=actor,
        decision="suspend",
        message=_required(reason, "Give the reason for suspending the shop."),
    )


def seller_reinstate(*, seller_id: int, actor) -> Seller:
    """Lift a suspension: the shop is open again. Emails the owner.

    Raises IllegalTransition unless suspended; NotPlatformStaff.
    """
    return _decide(seller_id=seller_id, actor=actor, decision="reinstate", message="")


def seller_close(*, seller_id: int, actor, reason: str = "") -> Seller:
    """Close a seller for good (from any status but closed). Emails the owner.

    Raises IllegalTransition when already closed; NotPlatformStaff.
    """
    return _decide(seller_id=seller_id, actor=actor, decision="close", message=reason.strip())


def _required(text: str, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ReasonRequired(message)
    return text


def _decide(*, seller_id: int, actor, decision: str, message: str) -> Seller:
    if actor is not None and not actor.is_staff:
        raise NotPlatformStaff("Only platform staff can decide on seller applications.")
    event = _DECISION_EMAIL_EVENTS[decision]
    with transaction.atomic():
        seller = Seller.objects.select_for_update().get(pk=seller_id)
        sources = _DECISION_SOURCES.get(decision)
        if sources is not None and seller.status not in sources:
            raise IllegalTransition(
                f"A {seller.get_status_display().lower()} seller cannot be "
                f"{'approved' if decision == 'approve' else 'reinstated'}."
            )
        decided = seller_transition(
            seller_id=seller_id,
            to_status=_DECISION_TARGETS[decision],
            actor=actor,
            message=message,
        )
        _notify_owner(decided, event)
        return decided


# --------------------------------------------------------------------------------------------
# Emails
# --------------------------------------------------------------------------------------------


def _notify_owner(seller: Seller, event: str) -> None:
    """In the transaction of the status change: one email per status event (its audit row)."""
    status_event_id = (
        SellerStatusEvent.objects.filter(seller_id=seller.pk)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    owner = seller.owner
    notify(
        kind=f"seller.application_{event}",
        key=f"seller-status:{status_event_id}",
        to_email=owner.email,
        user=owner,
        about=f"seller:{seller.pk}",
        subject_template=f"sellers/email/application_{event}_subject.txt",
        body_template=f"sellers/email/application_{event}.txt",
        context={
            "owner_name": owner.get_short_name(),
            "shop_name": seller.shop_name,
            "message": seller.status_message,
            "application_path": reverse("seller_center:application"),
        },
    )
