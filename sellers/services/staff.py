"""Writes for a seller's people: invitations, roles, removal.

Invitation tokens are stored as SHA-256 hashes: a leaked database copy holds no working link. The
raw token exists only in the email and in the return value of `seller_invitation_create`.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone

from marketplace.accounts.models import normalize_email
from marketplace.errors import DomainError
from marketplace.notifications.services import notify
from sellers.models import Seller, SellerInvitation, SellerMember, SellerRole, SellerStatus
from sellers.services.setup import SellerRecordNotFound

INVITATION_VALID_FOR = timedelta(days=7)
STAFF_ROLES = frozenset(SellerRole.values) - {SellerRole.OWNER}


class InvitationRefused(DomainError):
    code = "invitation_refused"


class InvitationNotUsable(DomainError):
    code = "invitation_not_usable"


class MemberChangeRefused(DomainError):
    code = "member_change_refused"


def invitation_token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def seller_invitation_create(
    *, seller: Seller, email: str, role: str, invited_by, link_base: str = ""
) -> tuple[SellerInvitation, str]:
    """Invite `email` to the seller's staff in `role` and email the link once committed.

    `link_base` is the scheme and host for the emailed link ("https://agora.example").
    Raises InvitationRefused (nothing written) for the owner role, an address that is already a
    member here or works for another seller, or one with a pending invitation here.
    """
    email = normalize_email(email)
    if role not in STAFF_ROLES:
        raise InvitationRefused("Choose a staff role; a shop has exactly one owner.")
    if seller.status == SellerStatus.CLOSED:
        raise InvitationRefused("A closed shop cannot invite staff.")
    with transaction.atomic():
        # The seller row lock serialises invitations of one seller, so two clicks on "Invite"
        # cannot leave two pending invitations for one address.
        Seller.objects.select_for_update().filter(pk=seller.pk).first()
        memberships = SellerMember.objects.filter(user__email=email).exclude(
            seller__status=SellerStatus.CLOSED
        )
        if memberships.filter(seller=seller).exists():
            raise InvitationRefused(f"{email} is already a member of this shop.")
        if memberships.exists():
            raise InvitationRefused(
                f"{email} already works for another seller. A person can work for one shop at a time."
            )
        pending = SellerInvitation.objects.filter(
            seller=seller,
            email=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        if pending.exists():
            raise InvitationRefused(
                f"{email} already has a pending invitation. Revoke it to send a new one."
            )
        raw_token = secrets.token_urlsafe(32)
        now = timezone.now()
        invitation = SellerInvitation.objects.create(
            seller=seller,
            email=email,
            role=role,
            token_hash=invitation_token_hash(raw_token),
            invited_by=invited_by,
            created_at=now,
            expires_at=now + INVITATION_VALID_FOR,
        )
        link = link_base.rstrip("/") + reverse("seller_center:invitation_accept", args=[raw_token])
        _notify_invitation(invitation, link)
    return invitation, raw_token


def seller_invitation_revoke(*, seller: Seller, invitation_id: int, actor) -> SellerInvitation:
    """Raises SellerRecordNotFound for another seller's invitation, InvitationNotUsable when it
    was already accepted or revoked."""
    with transaction.atomic():
        invitation = (
            SellerInvitation.objects.select_for_update()
            .filter(seller=seller, pk=invitation_id)
            .first()
        )
        if invitation is None:
            raise SellerRecordNotFound("No such invitation.")
        if invitation.accepted_at is not None:
            raise InvitationNotUsable("This invitation was already accepted.")
        if invitation.revoked_at is not None:
            raise InvitationNotUsable("This invitation was already revoked.")
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def seller_invitation_get_by_token(*, raw_token: str) -> SellerInvitation | None:
    return (
        SellerInvitation.objects.select_related("seller", "invited_by")
        .filter(token_hash=invitation_token_hash(raw_token))
        .first()
    )


def seller_invitation_accept(*, raw_token: str, user) -> SellerMember:
    """Make the signed-in `user` a member in the invitation's role.

    Raises InvitationNotUsable (nothing written) for an unknown, expired, revoked or accepted
    invitation, one sent to another address, or a user who already works for a seller.
    """
    with transaction.atomic():
        invitation = (
            SellerInvitation.objects.select_for_update()
            .select_related("seller")
            .filter(token_hash=invitation_token_hash(raw_token))
            .first()
        )
        if invitation is None:
            raise InvitationNotUsable("This invitation link is not valid. Ask for a new one.")
        if invitation.accepted_at is not None:
            raise InvitationNotUsable("This invitation has already been accepted.")
        if invitation.revoked_at is not None:
            raise InvitationNotUsable("This invitation was withdrawn by the shop.")
        if invitation.expires_at <= timezone.now():
            raise InvitationNotUsable("This invitation has expired. Ask the shop for a new one.")
        if invitation.seller.status == SellerStatus.CLOSED:
            raise InvitationNotUsable("This shop is closed.")
        if normalize_email(user.email) != invitation.email:
            raise InvitationNotUsable(
                f"This invitation was sent to {invitation.email}, but you are signed in as "
                f"{user.email}. Sign in with the invited address to accept it."
            )
        # Lock the person too: two invitations from two shops accepted at the same moment must
        # not both pass the "works for one shop at a time" check below.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if (
            SellerMember.objects.filter(user=user)
            .exclude(seller__status=SellerStatus.CLOSED)
            .exists()
        ):
            raise InvitationNotUsable(
                "You already work for a seller. A person can work for one shop at a time."
            )
        try:
            with transaction.atomic():
                member = SellerMember.objects.create(
                    seller=invitation.seller, user=user, role=invitation.role
                )
        except IntegrityError:
            raise InvitationNotUsable("You are already a member of this shop.") from None
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return member


def _staff_member_for_update(*, seller: Seller, member_id: int) -> SellerMember:
    member = (
        SellerMember.objects.select_for_update()
        .select_related("user")
        .filter(seller=seller, pk=member_id)
        .first()
    )
    if member is None:
        raise SellerRecordNotFound("No such member.")
    if member.role == SellerRole.OWNER:
        raise MemberChangeRefused(
            "The owner's role cannot be changed, and the owner cannot be removed."
        )
    return member


def seller_member_change_role(*, seller: Seller, member_id: int, role: str, actor) -> SellerMember:
    """Raises SellerRecordNotFound for another seller's member, MemberChangeRefused for the owner
    or the owner role."""
    if role not in STAFF_ROLES:
        raise MemberChangeRefused("Choose a staff role; a shop has exactly one owner.")
    with transaction.atomic():
        member = _staff_member_for_update(seller=seller, member_id=member_id)
        member.role = role
        member.save(update_fields=["role"])
    return member


def seller_member_remove(*, seller: Seller, member_id: int, actor) -> None:
    """Remove a staff member. Access ends with their next request: the Seller Center re-reads
    membership every time. Raises SellerRecordNotFound or MemberChangeRefused (the owner)."""
    with transaction.atomic():
        member = _staff_member_for_update(seller=seller, member_id=member_id)
        _notify_removed(seller, member)
        member.delete()


def _notify_invitation(invitation: SellerInvitation, link: str) -> None:
    seller, inviter = invitation.seller, invitation.invited_by
    notify(
        kind="seller.staff_invitation",
        key=f"staff-invitation:{invitation.pk}",
        to_email=invitation.email,
        about=f"seller-invitation:{invitation.pk}",
        subject_template="sellers/email/staff_invitation_subject.txt",
        body_template="sellers/email/staff_invitation.txt",
        context={
            "shop_name": seller.shop_name,
            "role": invitation.get_role_display(),
            "inviter_name": inviter.get_full_name() if inviter else "",
            "email": invitation.email,
            "expires_on": formats.date_format(timezone.localtime(invitation.expires_at), "j F Y"),
        },
        # The raw token exists only in the email: it leaves the row once sent.
        secret_context={"link": link},
    )


def _notify_removed(seller: Seller, member: SellerMember) -> None:
    notify(
        kind="seller.staff_removed",
        key=f"staff-removed:{member.pk}",
        to_email=member.user.email,
        user=member.user,
        about=f"seller:{seller.pk}",
        subject_template="sellers/email/staff_removed_subject.txt",
        body_template="sellers/email/staff_removed.txt",
        context={"shop_name": seller.shop_name, "name": member.user.get_short_name()},
    )
