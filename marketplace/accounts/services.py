"""Writes for accounts. Views and admin call these; nothing else creates or edits users."""

import uuid

from django.db import IntegrityError, transaction

from marketplace.accounts.models import User, normalize_email
from marketplace.errors import DomainError
from marketplace.notifications.services import notify


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
            _notify_welcome(user)
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


def _notify_welcome(user: User) -> None:
    notify(
        kind="account.welcome",
        key=f"welcome:{user.pk}",
        to_email=user.email,
        user=user,
        about=f"user:{user.pk}",
        subject_template="accounts/email/welcome_subject.txt",
        body_template="accounts/email/welcome.txt",
        context={"name": user.get_short_name(), "email": user.email},
    )


def user_password_reset_notify(*, user: User, link: str) -> None:
    """Email `user` the one-time link that sets a new password. Every request is its own email
    (the caller throttles them); the link is a secret, dropped from the row once sent."""
    notify(
        kind="account.password_reset",
        key=f"password-reset:{user.pk}:{uuid.uuid4().hex}",
        to_email=user.email,
        user=user,
        about=f"user:{user.pk}",
        subject_template="accounts/email/password_reset_subject.txt",
        body_template="accounts/email/password_reset.txt",
        context={"name": user.get_short_name(), "email": user.email},
        secret_context={"link": link},
    )
