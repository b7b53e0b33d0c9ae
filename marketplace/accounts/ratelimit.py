"""Brute-force protection for every way to sign in, and a limit on password-reset emails, counted
in the shared cache (Redis in production).

Sign-in: failures are counted per identity (the email address; a future API key's prefix) and,
with a higher limit, per client address, in a fixed window that starts at the first failure. While
either count is at its limit, sign-in is refused without checking the secret, so guessing gains
nothing. A successful sign-in clears the identity's count. Every sign-in path runs its check
through `LoginThrottle.attempt`: the password forms (`forms.ThrottledAuthenticationMixin`, used by
/accounts/login/ and /admin/login/) and whatever signs in next, such as API keys.

Password reset: every request is counted per email address and per client address, whether or not
an account has that address, so the answer never tells whether it exists.

The client address is REMOTE_ADDR: X-Forwarded-For is written by the client and would let an
attacker pick a fresh address per attempt. Behind a proxy, have the proxy set REMOTE_ADDR.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache

from marketplace.accounts.models import normalize_email
from marketplace.errors import DomainError

T = TypeVar("T")


class SignInThrottled(DomainError):
    code = "sign_in_throttled"


class PasswordResetThrottled(DomainError):
    code = "password_reset_throttled"


def _client_address(request) -> str:
    # authenticate() may be called without a request; such attempts share one "unknown" count.
    if request is None:
        return "unknown"
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(counter: str, scope: str, value: str) -> str:
    # Hashed: the cache never holds the addresses people typed, and a key stays short and free of
    # control characters whatever was posted (Django warns about both, memcached refuses them).
    return f"{counter}:{scope}:{hashlib.sha256(value.encode()).hexdigest()}"


def _count(key: str, window_seconds: int) -> int:
    """Add one to a fixed-window counter and return the new count."""
    # add() starts the window only if no count exists; incr() is atomic in Redis and keeps the
    # key's expiry, so the window is never extended by later counts.
    cache.add(key, 0, timeout=window_seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window_seconds)
        return 1


def _minutes(seconds: int) -> int:
    return max(1, seconds // 60)


@dataclass(frozen=True)
class LoginThrottle:
    identity: str
    client_address: str

    @classmethod
    def for_request(cls, request, identity: str) -> "LoginThrottle":
        """`identity` is what the attempt names: an email (compared in lower case, like accounts)."""
        return cls(
            identity=normalize_email(identity or ""), client_address=_client_address(request)
        )

    @property
    def _identity_key(self) -> str:
        return _key("login-failures", "identity", self.identity)

    @property
    def _address_key(self) -> str:
        return _key("login-failures", "address", self.client_address)

    def attempt(self, check: Callable[[], T | None]) -> T | None:
        """Run one sign-in check under the throttle and return what it returns.

        `check` verifies the secret and returns the signed-in user, or None when the secret is
        wrong. While the identity or the client address is locked, SignInThrottled is raised and
        `check` is never called.
        """
        if self.is_locked():
            raise SignInThrottled(
                "Too many failed sign-in attempts. For your security, sign-in is paused for "
                f"{self.window_minutes()} minutes. You can reset your password meanwhile."
            )
        result = check()
        if result is None:
            self.record_failure()
        else:
            self.record_success()
        return result

    def is_locked(self) -> bool:
        counts = cache.get_many([self._identity_key, self._address_key])
        return (
            counts.get(self._identity_key, 0) >= settings.LOGIN_RATE_LIMIT_ATTEMPTS
            or counts.get(self._address_key, 0) >= settings.LOGIN_RATE_LIMIT_IP_ATTEMPTS
        )

    def record_failure(self) -> None:
        window = settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS
        _count(self._identity_key, window)
        _count(self._address_key, window)

    def record_success(self) -> None:
        cache.delete(self._identity_key)

    @staticmethod
    def window_minutes() -> int:
        return _minutes(settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS)


@dataclass(frozen=True)
class PasswordResetThrottle:
    email: str
    client_address: str

    @classmethod
    def for_request(cls, request, email: str) -> "PasswordResetThrottle":
        return cls(email=normalize_email(email or ""), client_address=_client_address(request))

    def count_request(self) -> None:
        """Count one reset request; raise PasswordResetThrottled when it is over a limit.

        The count goes up before the check, so simultaneous requests cannot all slip under the
        limit. The email is checked first and a request it refuses does not use up the client
        address's allowance (people behind one office address share that).
        """
        window = settings.PASSWORD_RESET_RATE_LIMIT_WINDOW_SECONDS
        if (
            _count(_key("password-resets", "email", self.email), window)
            > settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS
            or _count(_key("password-resets", "address", self.client_address), window)
            > settings.PASSWORD_RESET_RATE_LIMIT_IP_ATTEMPTS
        ):
            # Written to read true whether or not the address has an account.
            raise PasswordResetThrottled(
                "Too many password reset requests for this address or from your network. If an "
                "account uses this address, a reset link is already on its way: check the inbox "
                f"and the spam folder, or try again in {_minutes(window)} minutes."
            )
