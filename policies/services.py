"""Writes about policies.

Policy versions are append-only once they take effect: every seller acceptance points at the exact
text that was agreed to, so a change is always a new version with a later number. A version that
is still scheduled may be corrected or withdrawn until its date comes.

Every write here locks the document row first, so two staff members drafting at once get
consecutive numbers instead of a unique-constraint error, and the dates of a document's versions
stay in number order.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone

from marketplace.errors import DomainError
from policies.models import PolicyDocument, PolicyVersion

# A form prefilled with "now" reaches the service a little later; a date this close to now counts
# as "from now on" rather than as a date in the past.
EFFECTIVE_AT_GRACE = timedelta(minutes=5)


class PolicyVersionDateInvalid(DomainError):
    code = "policy_version_date_invalid"


class PolicyVersionInForce(DomainError):
    """The version has taken effect and can no longer change."""

    code = "policy_version_in_force"


def policy_version_check_effective_at(
    *, document: PolicyDocument, effective_at: datetime, number: int | None = None
) -> None:
    """Raise PolicyVersionDateInvalid unless `effective_at` suits version `number` of `document`
    (None: the next new version). Forms call this for an early field error; the services call it
    again under the document lock, where it counts.

    A date may not be in the past (sellers accepted the text in force then), nor before the
    previous version's date or after the next one's (versions take effect in number order).
    """
    if effective_at < timezone.now() - EFFECTIVE_AT_GRACE:
        raise PolicyVersionDateInvalid(
            "The effective date is in the past. A policy change can only take effect from now on."
        )
    versions = PolicyVersion.objects.filter(document=document)
    earlier = versions if number is None else versions.filter(number__lt=number)
    previous = earlier.order_by("-number").values_list("effective_at", flat=True).first()
    if previous is not None and effective_at < previous:
        raise PolicyVersionDateInvalid(
            "The effective date is before the previous version's "
            f"({previous:%d %B %Y %H:%M} UTC). Versions take effect in number order."
        )
    if number is not None:
        following = (
            versions.filter(number__gt=number)
            .order_by("number")
            .values_list("effective_at", flat=True)
            .first()
        )
        if following is not None and effective_at > following:
            raise PolicyVersionDateInvalid(
                "The effective date is after the next version's "
                f"({following:%d %B %Y %H:%M} UTC). Versions take effect in number order."
            )


def policy_version_next_number(*, document: PolicyDocument) -> int:
    """The number the next version of `document` will get. Only a hint outside a lock."""
    highest = PolicyVersion.objects.filter(document=document).aggregate(n=Max("number"))["n"]
    return (highest or 0) + 1


def _lock_document(document: PolicyDocument) -> PolicyDocument:
    return PolicyDocument.objects.select_for_update().get(pk=document.pk)


@transaction.atomic
def policy_version_create(
    *,
    document: PolicyDocument,
    body_markdown: str,
    change_summary: str,
    effective_at: datetime,
    created_by,
) -> PolicyVersion:
    """Add the next version of `document`, taking effect at `effective_at`.

    Raises PolicyVersionDateInvalid for a date in the past or before the latest version's date.
    Locks the document row.
    """
    document = _lock_document(document)
    policy_version_check_effective_at(document=document, effective_at=effective_at)
    return PolicyVersion.objects.create(
        document=document,
        number=policy_version_next_number(document=document),
        body_markdown=body_markdown,
        change_summary=change_summary,
        effective_at=effective_at,
        created_by=created_by,
    )


@transaction.atomic
def policy_version_update(
    *,
    version: PolicyVersion,
    body_markdown: str,
    change_summary: str,
    effective_at: datetime,
) -> PolicyVersion:
    """Correct a version that has not taken effect yet.

    Raises PolicyVersionInForce once its date has come, PolicyVersionDateInvalid for a date in the
    past or out of number order. Locks the document row.
    """
    _lock_document(version.document)
    version = PolicyVersion.objects.get(pk=version.pk)
    if version.has_taken_effect:
        raise PolicyVersionInForce(
            f"Version {version.number} took effect on {version.effective_at:%d %B %Y} and can no "
            "longer change. Draft a new version instead."
        )
    policy_version_check_effective_at(
        document=version.document, effective_at=effective_at, number=version.number
    )
    version.body_markdown = body_markdown
    version.change_summary = change_summary
    version.effective_at = effective_at
    version.save(update_fields=["body_markdown", "change_summary", "effective_at"])
    return version


@transaction.atomic
def policy_version_withdraw(*, version: PolicyVersion) -> None:
    """Delete a scheduled version before it takes effect. Only the latest version may go, so the
    numbers stay without gaps.

    Raises PolicyVersionInForce once its date has come, DomainError when a later version exists
    or sellers have already accepted it. Locks the document row.
    """
    _lock_document(version.document)
    version = PolicyVersion.objects.get(pk=version.pk)
    if version.has_taken_effect:
        raise PolicyVersionInForce(
            f"Version {version.number} has taken effect; versions in force are never deleted."
        )
    if PolicyVersion.objects.filter(document=version.document, number__gt=version.number).exists():
        raise DomainError(
            "Only the latest version can be withdrawn. Withdraw the later versions first.",
            code="policy_version_not_latest",
        )
    try:
        version.delete()
    except ProtectedError as error:
        # Sellers may accept a scheduled version ahead of its date; that record must survive.
        raise DomainError(
            "Sellers have already accepted this version, so it cannot be withdrawn. "
            "Draft a new version with the corrected text instead.",
            code="policy_version_accepted",
        ) from error
