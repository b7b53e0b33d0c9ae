"""Writes for accounts. Views and admin call these; nothing else creates or edits users."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from marketplace.accounts.models import User, normalize_email
from marketplace.errors import DomainError


class EmailAlreadyRegistered(DomainError):
    code = "email_already_registered"


def user_sign_up(*, email: str, password: str, full_name: str = "") -> User:
    """Create a shopper account and send the welcome email once the row is committed.

    Raises EmailAlreadyRegistered when the address (in any letter case) already has an account.
    """
    email = normalize_email(email)
    try:
        # The unique index on the stored, lower-case email decides: a look-up before the insert
        # leaves a gap in which simultaneous sign-ups all find the address free. The savepoint
        # rolls back only the failed insert (and its welcome email), so a caller's transaction
        # stays usable.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, full_name=full_name.strip()
            )
            transaction.on_commit(lambda: _send_welcome_email(user))
    except IntegrityError as error:
        if User.objects.filter(email=email).exists():
            raise EmailAlreadyRegistered(
                "An account with this email address already exists."
            ) from error
        raise
    return user


def user_update_profile(*, user: User, full_name: str) -> User:
    user.full_name = full_name.strip()
    user.save(update_fields=["full_name"])
    return user


def _send_welcome_email(user: User) -> None:
    context = {"user": user, "marketplace_name": settings.MARKETPLACE_NAME}
    send_mail(
        subject=f"Welcome to {settings.MARKETPLACE_NAME}",
        message=render_to_string("accounts/email/welcome.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
