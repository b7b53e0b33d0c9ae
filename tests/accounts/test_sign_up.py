import pytest
from django.urls import reverse

from marketplace.accounts.models import User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "a-long-unusual-passphrase-42"


def sign_up(client, **overrides):
    data = {
        "full_name": "Ann Buyer",
        "email": "Ann@Example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
        **overrides,
    }
    return client.post(reverse("accounts:sign_up"), data)


def test_it_creates_a_signed_in_account_with_a_lowercase_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client)

    assert response.status_code == 302
    assert response.url == reverse("storefront:home")
    user = User.objects.get()
    assert user.email == "ann@example.com"
    assert user.full_name == "Ann Buyer"
    assert user.check_password(GOOD_PASSWORD)
    assert int(client.session["_auth_user_id"]) == user.pk
    assert [message.to for message in mailoutbox] == [["ann@example.com"]]
    assert "Welcome" in mailoutbox[0].subject


def test_it_confirms_the_new_account_on_the_next_page(client):
    response = sign_up(client, email="confirm@example.com")
    page = client.get(response.url)
    assert "Your account is ready" in page.content.decode()


def test_it_refuses_an_email_registered_in_another_letter_case(client):
    UserFactory(email="ann@example.com")

    response = sign_up(client, email="ANN@example.com")

    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_it_refuses_mismatched_passwords_and_writes_nothing(client):
    response = sign_up(client, password2="something-else-entirely")

    assert response.status_code == 200
    assert "do not match" in response.content.decode()
    assert not User.objects.exists()


def test_it_refuses_a_weak_password_next_to_the_field(client):
    response = sign_up(client, password1="password", password2="password")

    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.exists()


def test_it_refuses_a_malformed_email(client):
    response = sign_up(client, email="not-an-email")

    assert response.status_code == 200
    assert "valid email" in response.content.decode()
    assert not User.objects.exists()


def test_a_signed_in_user_is_sent_to_their_profile(client):
    client.force_login(UserFactory())
    response = client.get(reverse("accounts:sign_up"))
    assert response.status_code == 302
    assert response.url == reverse("accounts:profile")


def test_the_database_refuses_an_uppercase_email():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create([User(email="Mixed@Example.com")])
