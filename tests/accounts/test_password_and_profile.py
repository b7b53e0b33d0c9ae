import re

import pytest
from django.urls import reverse

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-very-long-passphrase-7"


def test_the_profile_needs_a_signed_in_user(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_profile_shows_the_email_and_saves_the_name(client):
    user = UserFactory(email="hana@example.com", full_name="Hana")
    client.force_login(user)

    assert "hana@example.com" in client.get(reverse("accounts:profile")).content.decode()
    response = client.post(reverse("accounts:profile"), {"full_name": "  Hana Ito  "}, follow=True)

    user.refresh_from_db()
    assert user.full_name == "Hana Ito"
    assert "Your profile has been saved" in response.content.decode()


def test_changing_the_password_keeps_the_user_signed_in(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert "Your password has been changed" in response.content.decode()
    assert int(client.session["_auth_user_id"]) == user.pk


def test_a_wrong_old_password_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    user.refresh_from_db()
    assert response.status_code == 200
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_reset_emails_a_link_that_sets_a_new_password(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    user = UserFactory(email="ivy@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "IVY@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "Reset your Agora password"
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(
        1
    )

    # Django redirects the token link to a session-bound URL so the token never sits in the page.
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    response = client.post(
        set_password_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert "You can sign in now" in response.content.decode()


def test_password_reset_for_an_unknown_email_sends_nothing_and_reveals_nothing(client, mailoutbox):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mailoutbox == []
