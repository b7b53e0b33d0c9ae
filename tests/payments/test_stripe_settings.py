"""Choosing the Stripe gateway without its secret key is a clear start-up error, not a failure at
the first checkout."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_check(tmp_path, **env_overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith("STRIPE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="marketplace.settings",
        DJANGO_DEBUG="1",
        MARKETPLACE_VAR_DIR=str(tmp_path),
        **env_overrides,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_stripe_gateway_needs_a_secret_key(tmp_path):
    result = run_check(tmp_path, PAYMENT_GATEWAY="stripe")

    assert result.returncode != 0
    assert "PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY" in result.stderr


def test_the_stripe_gateway_starts_with_a_secret_key(tmp_path):
    result = run_check(tmp_path, PAYMENT_GATEWAY="stripe", STRIPE_SECRET_KEY="sk_test_123")

    assert result.returncode == 0, result.stderr
