"""The throttle itself, as any sign-in path (a future API key, say) would use it."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from marketplace.accounts.ratelimit import LoginThrottle, SignInThrottled


def throttle_for(identity, address="192.0.2.200"):
    return LoginThrottle.for_request(RequestFactory().get("/", REMOTE_ADDR=address), identity)


def test_attempt_counts_failures_and_then_refuses_without_running_the_check(settings):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 2
    throttle = throttle_for("key:ab12cd")  # an API key's public prefix, for example
    assert throttle.attempt(lambda: None) is None
    assert throttle.attempt(lambda: None) is None
    ran = []

    with pytest.raises(SignInThrottled) as refused:
        throttle.attempt(lambda: ran.append(True) or "someone")

    assert ran == []
    assert refused.value.code == "sign_in_throttled"
    assert "Too many failed sign-in attempts" in refused.value.message


def test_a_success_clears_the_identitys_failures(settings):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 2
    throttle = throttle_for("Dee@Example.com")
    throttle.attempt(lambda: None)

    assert throttle.attempt(lambda: "dee") == "dee"
    throttle.attempt(lambda: None)
    assert not throttle.is_locked()


def test_an_attempt_without_a_request_is_still_counted(settings):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 1
    throttle = LoginThrottle.for_request(None, "eve@example.com")
    throttle.attempt(lambda: None)

    assert throttle.is_locked()


def test_the_cache_holds_no_email_address_whatever_was_typed():
    long_address = "a" * 300 + "@example.com\x00"
    throttle_for(long_address).record_failure()

    # Hashed keys: no address at rest, and no key Django warns about (length, control characters).
    keys = [throttle_for(long_address)._identity_key, throttle_for(long_address)._address_key]
    assert all(len(key) < 100 and "example.com" not in key for key in keys)
    assert cache.get(keys[0]) == 1
