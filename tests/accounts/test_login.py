import pytest
from django.urls import reverse

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def log_in(client, email, password, address="203.0.113.7"):
    return client.post(
        reverse("accounts:login"), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def test_it_signs_in_with_email_in_any_letter_case(client):
    user = UserFactory(email="bob@example.com")

    response = log_in(client, "BOB@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_wrong_password_says_so_and_signs_nobody_in(client):
    UserFactory(email="carol@example.com")

    response = log_in(client, "carol@example.com", "wrong")

    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_pauses_sign_in_after_five_failures_even_with_the_right_password(client, settings):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 5
    UserFactory(email="dave@example.com")
    for _ in range(5):
        assert (
            log_in(client, "dave@example.com", "guess", address="203.0.113.10").status_code == 200
        )

    response = log_in(client, "dave@example.com", DEFAULT_PASSWORD, address="203.0.113.10")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_pause_follows_the_email_across_client_addresses(client):
    UserFactory(email="erin@example.com")
    for attempt in range(5):
        log_in(client, "erin@example.com", "guess", address=f"198.51.100.{attempt}")

    response = log_in(client, "ERIN@example.com", DEFAULT_PASSWORD, address="198.51.100.99")

    assert response.status_code == 429


def test_one_address_guessing_many_emails_is_paused(client, settings):
    settings.LOGIN_RATE_LIMIT_IP_ATTEMPTS = 3
    user = UserFactory(email="frank@example.com")
    for attempt in range(3):
        log_in(client, f"nobody{attempt}@example.com", "guess", address="192.0.2.50")

    response = log_in(client, user.email, DEFAULT_PASSWORD, address="192.0.2.50")

    assert response.status_code == 429


def test_a_successful_sign_in_clears_the_failures_of_that_email(client):
    UserFactory(email="gina@example.com")
    for _ in range(4):
        log_in(client, "gina@example.com", "guess", address="192.0.2.60")
    assert (
        log_in(client, "gina@example.com", DEFAULT_PASSWORD, address="192.0.2.60").status_code
        == 302
    )
    client.post(reverse("accounts:logout"))

    for _ in range(4):
        log_in(client, "gina@example.com", "guess", address="192.0.2.61")
    response = log_in(client, "gina@example.com", DEFAULT_PASSWORD, address="192.0.2.61")

    assert response.status_code == 302


def test_sign_out_is_a_post_and_confirms(client):
    client.force_login(UserFactory())

    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"), follow=True)

    assert "_auth_user_id" not in client.session
    assert "You are signed out" in response.content.decode()


def test_an_inactive_user_cannot_sign_in(client):
    UserFactory(email="gone@example.com", is_active=False)

    response = log_in(client, "gone@example.com", DEFAULT_PASSWORD, address="192.0.2.70")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
