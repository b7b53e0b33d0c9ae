"""Every way to sign in goes through the one login throttle (marketplace/accounts/ratelimit.py).

SIGN_IN_PATHS lists them; test_every_sign_in_page_is_listed_here fails when a new login page
appears without being added, so the throttle tests below run on it too.
"""

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

from tests.accounts.factories import DEFAULT_PASSWORD, StaffUserFactory

pytestmark = pytest.mark.django_db

# The URL name of each sign-in page. Staff accounts can use all of them.
SIGN_IN_PATHS = ["accounts:login", "admin:login"]


def sign_in(client, url_name, email, password, address):
    return client.post(
        reverse(url_name), {"username": email, "password": password}, REMOTE_ADDR=address
    )


def is_signed_in(client):
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url_name", SIGN_IN_PATHS)
def test_a_staff_account_signs_in(client, url_name):
    staff = StaffUserFactory()

    response = sign_in(client, url_name, staff.email.upper(), DEFAULT_PASSWORD, "192.0.2.1")

    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == staff.pk


@pytest.mark.parametrize("url_name", SIGN_IN_PATHS)
def test_sign_in_is_paused_after_the_allowed_failures_even_with_the_right_password(
    client, settings, url_name
):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 5
    staff = StaffUserFactory()
    for _ in range(5):
        response = sign_in(client, url_name, staff.email, "wrong-guess", "192.0.2.2")
        assert response.status_code == 200

    response = sign_in(client, url_name, staff.email, DEFAULT_PASSWORD, "192.0.2.2")

    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not is_signed_in(client)


@pytest.mark.parametrize("url_name", SIGN_IN_PATHS)
def test_a_paused_attempt_is_refused_before_the_password_is_checked(
    client, settings, monkeypatch, url_name
):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 1
    staff = StaffUserFactory()
    sign_in(client, url_name, staff.email, "wrong-guess", "192.0.2.3")
    checked = []
    monkeypatch.setattr(
        "marketplace.accounts.models.User.check_password",
        lambda self, raw: checked.append(raw) or True,
    )

    response = sign_in(client, url_name, staff.email, "another-guess", "192.0.2.3")

    assert response.status_code == 429
    assert checked == []


@pytest.mark.parametrize("url_name", SIGN_IN_PATHS)
def test_one_address_guessing_many_emails_is_paused(client, settings, url_name):
    settings.LOGIN_RATE_LIMIT_IP_ATTEMPTS = 3
    staff = StaffUserFactory()
    for attempt in range(3):
        sign_in(client, url_name, f"nobody{attempt}@example.com", "guess", "192.0.2.4")

    response = sign_in(client, url_name, staff.email, DEFAULT_PASSWORD, "192.0.2.4")

    assert response.status_code == 429


@pytest.mark.parametrize("first", SIGN_IN_PATHS)
@pytest.mark.parametrize("second", SIGN_IN_PATHS)
def test_failures_on_one_sign_in_page_count_on_every_other(client, settings, first, second):
    settings.LOGIN_RATE_LIMIT_ATTEMPTS = 4
    staff = StaffUserFactory()
    for address in ("198.51.100.1", "198.51.100.2"):
        sign_in(client, first, staff.email, "guess", address)
        sign_in(client, second, staff.email, "guess", address)

    for url_name in SIGN_IN_PATHS:
        response = sign_in(client, url_name, staff.email, DEFAULT_PASSWORD, "198.51.100.3")
        assert response.status_code == 429
    assert not is_signed_in(client)


def test_the_admin_login_after_ten_wrong_passwords_refuses_the_right_one(client):
    """The black-box finding: ten wrong passwords, then the right one signed in."""
    staff = StaffUserFactory(email="admin@example.com")
    answers = [
        sign_in(client, "admin:login", staff.email, f"guess-{n}", "203.0.113.50").status_code
        for n in range(10)
    ]

    response = sign_in(client, "admin:login", staff.email, DEFAULT_PASSWORD, "203.0.113.50")

    assert answers == [200] * 5 + [429] * 5
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert not is_signed_in(client)


def test_the_admin_login_page_still_shows_and_sends_staff_to_the_admin(client):
    staff = StaffUserFactory()
    page = client.get(reverse("admin:login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()

    # The page's form carries next=/admin/ in a hidden field.
    assert f'name="next" value="{reverse("admin:index")}"' in page.content.decode()
    response = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": DEFAULT_PASSWORD, "next": reverse("admin:index")},
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def _login_pages(resolver=None, prefix=""):
    """The path of every URL pattern served by a login view (Django's LoginView, the admin's)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _login_pages(pattern, route)
        elif isinstance(pattern, URLPattern):
            callback = pattern.callback
            view_class = getattr(callback, "view_class", None)
            is_login_view = (view_class and issubclass(view_class, auth_views.LoginView)) or (
                getattr(callback, "__func__", None) is AdminSite.login
            )
            if is_login_view:
                yield "/" + route.lstrip("^").rstrip("$")


def test_every_sign_in_page_is_listed_here():
    """A login page added anywhere must be added to SIGN_IN_PATHS, so the tests above cover it."""
    listed = {reverse(url_name) for url_name in SIGN_IN_PATHS}

    assert set(_login_pages()) == listed
    for path in listed:
        # The admin site's own login view is shadowed by the throttled one.
        assert getattr(resolve(path).func, "__func__", None) is not AdminSite.login
