import uuid

import pytest


@pytest.fixture(autouse=True)
def _fresh_throttle_counts(settings):
    """Each test counts sign-in failures and reset requests from zero.

    The counts live in the cache, which outlives a test's rolled-back transaction (and, on Redis,
    the whole run). A key prefix of the test's own keeps them apart on the real backend, instead of
    flushing a cache other tests or the broker may share.
    """
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}
        for alias, config in settings.CACHES.items()
    }
