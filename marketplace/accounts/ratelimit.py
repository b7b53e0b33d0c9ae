"""Login brute-force protection, counted in the shared cache (Redis in production).

Failures are counted per email address and, with a higher limit, per client address, in a fixed
window that starts at the first failure. While either count is at its limit, sign-in is refused
without checking the password, so guessing gains nothing. A successful sign-in clears the email's
count.

The client address is REMOTE_ADDR: X-Forwarded-For is written by the client and would let an
attacker pick a fresh address per attempt. Behind a proxy, have the proxy set REMOTE_ADDR.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from marketplace.accounts.models import normalize_email


@dataclass(frozen=True)
class LoginThrottle:
    email: str
    client_address: str

    @classmethod
    def for_request(cls, request, email: str) -> "LoginThrottle":
        return cls(
            email=normalize_email(email or ""),
            client_address=request.META.get("REMOTE_ADDR", "unknown"),
        )

    @property
    def _email_key(self) -> str:
        return f"login-failures:email:{self.email}"

    @property
    def _address_key(self) -> str:
        return f"login-failures:address:{self.client_address}"

    def is_locked(self) -> bool:
        counts = cache.get_many([self._email_key, self._address_key])
        return (
            counts.get(self._email_key, 0) >= settings.LOGIN_RATE_LIMIT_ATTEMPTS
            or counts.get(self._address_key, 0) >= settings.LOGIN_RATE_LIMIT_IP_ATTEMPTS
        )

    def record_failure(self) -> None:
        window = settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS
        for key in (self._email_key, self._address_key):
            # add() starts the window only if no count exists; incr() is atomic in Redis.
            cache.add(key, 0, timeout=window)
            try:
                cache.incr(key)
            except ValueError:  # expired between add() and incr()
                cache.set(key, 1, timeout=window)

    def record_success(self) -> None:
        cache.delete(self._email_key)

    @staticmethod
    def window_minutes() -> int:
        return max(1, settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS // 60)
