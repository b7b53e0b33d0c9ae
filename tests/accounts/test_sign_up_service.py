import pytest
from django.db import transaction

from marketplace.accounts.models import User
from marketplace.accounts.services import EmailAlreadyRegistered, user_sign_up

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-passphrase-42"


def test_a_second_sign_up_for_an_address_is_refused_by_the_unique_index(
    mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user_sign_up(email="ann@example.com", password=PASSWORD)

    # The service does not look the address up first: the database's unique index refuses the
    # insert, which is what a simultaneous sign-up meets (tests/accounts/test_sign_up_race.py).
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(EmailAlreadyRegistered) as refused,
    ):
        user_sign_up(email="ANN@example.com ", password=PASSWORD)

    assert refused.value.code == "email_already_registered"
    assert refused.value.message == "An account with this email address already exists."
    assert User.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_refused_sign_up_leaves_the_callers_transaction_usable():
    user_sign_up(email="bea@example.com", password=PASSWORD)

    with transaction.atomic():
        with pytest.raises(EmailAlreadyRegistered):
            user_sign_up(email="bea@example.com", password=PASSWORD)
        # Only the savepoint was rolled back: the transaction goes on.
        user_sign_up(email="cal@example.com", password=PASSWORD)

    assert sorted(User.objects.values_list("email", flat=True)) == [
        "bea@example.com",
        "cal@example.com",
    ]
