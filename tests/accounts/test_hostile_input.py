"""Over-long and malformed input on the sign-up, sign-in and reset forms is a form error, never a
500 (PostgreSQL refuses a value longer than its column; SQLite would silently store it)."""

import pytest
from django.urls import reverse

from marketplace.accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-unusual-passphrase-42"
# Well-formed addresses: the one past the column's 254 characters is still within the 320 that
# Django's email validator accepts, so only a length check stops it before the database.
EMAIL_255 = "a" * 62 + "@" + ".".join(["b" * 62] * 3) + ".com"
EMAIL_254 = EMAIL_255[1:]

assert len(EMAIL_255) == 255


def sign_up(client, **overrides):
    data = {
        "full_name": "Ann Buyer",
        "email": "ann@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **overrides,
    }
    return client.post(reverse("accounts:sign_up"), data)


def test_sign_up_refuses_an_email_longer_than_254_characters(client):
    response = sign_up(client, email=EMAIL_255)

    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert not User.objects.exists()


def test_sign_up_accepts_an_email_of_exactly_254_characters(client):
    response = sign_up(client, email=EMAIL_254)

    assert response.status_code == 302
    assert User.objects.get().email == EMAIL_254


@pytest.mark.parametrize(
    "overrides",
    [
        {"email": "a" * 400 + "@example.com"},
        {"email": "ann\x00@example.com"},
        {"full_name": "N" * 151},
        {"full_name": "Ann\x00"},
        {"password1": GOOD_PASSWORD + "\x00", "password2": GOOD_PASSWORD + "\x00"},
    ],
    ids=["email-400", "email-nul", "name-151", "name-nul", "password-nul"],
)
def test_sign_up_answers_bad_input_with_a_form_error(client, overrides):
    response = sign_up(client, **overrides)

    assert response.status_code == 200
    page = response.content.decode()
    assert "has-error" in page or "alert-error" in page
    assert not User.objects.exists()


def test_a_very_long_password_is_simply_a_password(client):
    """No cap: hashing reads a long password once (PBKDF2 hashes an over-long HMAC key first),
    and Django's similarity check skips passwords far longer than the user's attributes."""
    password = "correct horse " * 400

    assert sign_up(client, password1=password, password2=password).status_code == 302
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("accounts:login"), {"username": "ann@example.com", "password": password}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [
        (EMAIL_255, DEFAULT_PASSWORD),
        ("a" * 5000 + "@example.com", DEFAULT_PASSWORD),
        ("ann\x00@example.com", DEFAULT_PASSWORD),
        ("ann@example.com", "p" * 5000),
        ("ann@example.com", "pass\x00word"),
    ],
    ids=["email-255", "email-5000", "email-nul", "password-5000", "password-nul"],
)
def test_sign_in_answers_bad_input_without_signing_in(client, email, password):
    UserFactory(email="ann@example.com")

    response = client.post(reverse("accounts:login"), {"username": email, "password": password})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "email",
    [EMAIL_255, "a" * 5000 + "@example.com", "ann\x00@example.com"],
    ids=["email-255", "email-5000", "email-nul"],
)
def test_password_reset_answers_bad_input_with_a_form_error(client, mailoutbox, email):
    UserFactory(email="ann@example.com")

    response = client.post(reverse("accounts:password_reset"), {"email": email})

    assert response.status_code == 200
    assert mailoutbox == []


@pytest.mark.parametrize(
    "email",
    [EMAIL_255, "a" * 5000 + "@example.com", "ann\x00@example.com"],
    ids=["email-255", "email-5000", "email-nul"],
)
def test_the_admin_login_answers_bad_input_without_signing_in(client, email):
    response = client.post(reverse("admin:login"), {"username": email, "password": "x"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
