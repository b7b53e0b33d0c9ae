"""Password-reset emails are limited per email address and per client address."""

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ask_for_reset(django_capture_on_commit_callbacks):
    """Post the reset form; the email is sent by a job enqueued once the request committed."""

    def ask(client, email, address="203.0.113.80"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                reverse("accounts:password_reset"), {"email": email}, REMOTE_ADDR=address
            )

    return ask


def page_text(response):
    # The CSRF token (in the form and in htmx's headers) differs between pages; nothing else may.
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def test_ten_requests_for_one_address_send_three_emails(
    client, ask_for_reset, mailoutbox, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS = 3
    UserFactory(email="ivy@example.com")

    answers = [ask_for_reset(client, "ivy@example.com").status_code for _ in range(10)]

    assert len(mailoutbox) == 3
    assert answers == [302] * 3 + [429] * 7


def test_the_limit_follows_the_email_across_letter_case_and_client_addresses(
    client, ask_for_reset, mailoutbox, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS = 2
    UserFactory(email="jon@example.com")
    ask_for_reset(client, "jon@example.com", address="198.51.100.1")
    ask_for_reset(client, "JON@example.com", address="198.51.100.2")

    response = ask_for_reset(client, "Jon@Example.com", address="198.51.100.3")

    assert response.status_code == 429
    assert len(mailoutbox) == 2


def test_a_refused_request_says_why_and_sends_nothing(client, ask_for_reset, mailoutbox, settings):
    settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS = 1
    UserFactory(email="kim@example.com")
    ask_for_reset(client, "kim@example.com")

    response = ask_for_reset(client, "kim@example.com")

    assert response.status_code == 429
    assert "Too many password reset requests" in response.content.decode()
    assert len(mailoutbox) == 1


def test_one_client_address_asking_for_many_emails_is_limited(
    client, ask_for_reset, mailoutbox, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT_IP_ATTEMPTS = 4
    users = [UserFactory() for _ in range(6)]

    answers = [
        ask_for_reset(client, user.email, address="192.0.2.90").status_code for user in users
    ]

    assert answers == [302] * 4 + [429] * 2
    assert len(mailoutbox) == 4
    # Another client is not held back by that one.
    assert ask_for_reset(client, users[5].email, address="192.0.2.91").status_code == 302


def test_the_answers_are_the_same_whether_or_not_the_account_exists(
    client, ask_for_reset, settings
):
    settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS = 2
    UserFactory(email="lee@example.com")

    def answers(email, address):
        responses = [ask_for_reset(client, email, address=address) for _ in range(4)]
        # A refused form shows the address typed; everything else must be the same.
        return [
            (r.status_code, r.get("Location"), page_text(r).replace(email, "EMAIL"))
            for r in responses
        ]

    assert answers("lee@example.com", "192.0.2.100") == answers(
        "nobody-here@example.com", "192.0.2.101"
    )


def test_the_default_limits(settings):
    from marketplace import settings as real_settings

    assert real_settings.PASSWORD_RESET_RATE_LIMIT_ATTEMPTS == 3
    assert real_settings.PASSWORD_RESET_RATE_LIMIT_IP_ATTEMPTS == 10
    assert real_settings.PASSWORD_RESET_RATE_LIMIT_WINDOW_SECONDS == 3600
