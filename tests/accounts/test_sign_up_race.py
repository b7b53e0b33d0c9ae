"""Five people sign up with one email at the same moment: one account, four clear refusals."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from marketplace.accounts.models import User, UserManager
from tests.markers import needs_postgres

SIGN_UPS = 5
PASSWORD = "a-long-unusual-passphrase-42"

pytestmark = [
    pytest.mark.postgres,
    needs_postgres,
    pytest.mark.django_db(transaction=True),
]


def test_simultaneous_sign_ups_with_one_email_make_one_account_and_clear_refusals(monkeypatch):
    start = threading.Barrier(SIGN_UPS)
    # Every sign-up has passed its checks before any of them inserts: the widest window the race
    # can have, every time (left to the scheduler, it showed up in about half the runs).
    before_insert = threading.Barrier(SIGN_UPS, timeout=30)
    create_user = UserManager.create_user

    def create_user_together(manager, *args, **kwargs):
        before_insert.wait()
        return create_user(manager, *args, **kwargs)

    monkeypatch.setattr(UserManager, "create_user", create_user_together)
    responses = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def sign_up(number):
        # raise_request_exception=False: a crash answers 500 as it would to a browser.
        client = Client(raise_request_exception=False)
        data = {
            "full_name": f"Racer {number}",
            "email": "Same@Example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
        try:
            start.wait()
            response = client.post(reverse("accounts:sign_up"), data)
        except BaseException as error:
            with lock:
                errors.append(error)
            return
        finally:
            connection.close()
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(SIGN_UPS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (SIGN_UPS - 1) + [302]
    refused = [r.content.decode() for r in responses if r.status_code == 200]
    assert all("already exists" in page for page in refused)
    assert User.objects.filter(email="same@example.com").count() == 1
