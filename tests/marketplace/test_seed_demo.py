import io

import pytest
from django.core.management import call_command

from marketplace.accounts.models import User
from marketplace.management.commands.seed_demo import DEMO_LOGINS, demo_steps

pytestmark = pytest.mark.django_db


def run_seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_every_demo_login_and_prints_them():
    output = run_seed_demo()

    for login in DEMO_LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(login.password)
        assert user.is_staff == login.is_staff
        assert login.email in output and login.password in output
    steps = len(demo_steps())
    assert f"{steps}/{steps} 100%" in output


def test_running_it_twice_changes_nothing_and_repairs_a_changed_password():
    run_seed_demo()
    users = User.objects.count()
    shopper = User.objects.get(email="shopper@demo.test")
    shopper.set_password("changed-by-someone")
    shopper.save()

    run_seed_demo()

    assert User.objects.count() == users
    shopper.refresh_from_db()
    assert shopper.check_password("demo-shopper-pass")


def test_the_demo_admin_can_open_the_admin(client):
    run_seed_demo()
    admin_login = next(login for login in DEMO_LOGINS if login.is_staff)
    assert client.login(username=admin_login.email, password=admin_login.password)

    assert client.get("/admin/").status_code == 200
