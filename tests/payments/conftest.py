from tests.fake_stripe.fixtures import fake_stripe, fake_stripe_server  # noqa: F401
