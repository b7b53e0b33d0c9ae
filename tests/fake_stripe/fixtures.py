"""Pytest fixtures for the fake Stripe server. Import them into a conftest.py to use them:

    from tests.fake_stripe.fixtures import fake_stripe, fake_stripe_server  # noqa: F401

`fake_stripe` gives each test a clean fake and switches the marketplace to the Stripe gateway
pointed at it (settings.STRIPE_API_BASE), with the fake's secret key and webhook secret, so no
request can reach the network.
"""

import pytest
import stripe._http_client

from tests.fake_stripe.server import FakeStripe


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = FakeStripe().start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings, monkeypatch):
    fake_stripe_server.reset()
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_SECRET_KEY = fake_stripe_server.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake_stripe_server.webhook_secret
    settings.STRIPE_API_BASE = fake_stripe_server.url
    # The package waits 0.5-5 s between network retries; the tests need the retries, not the wait.
    monkeypatch.setattr(
        stripe._http_client.HTTPClient, "_sleep_time_seconds", lambda self, num_retries: 0
    )
    yield fake_stripe_server
    fake_stripe_server.reset()
