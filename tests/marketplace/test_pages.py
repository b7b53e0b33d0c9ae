import pytest
from django.urls import reverse

from tests.accounts.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_names_the_marketplace_and_offers_sign_up(client, settings):
    response = client.get(reverse("storefront:home"))

    html = response.content.decode()
    assert response.status_code == 200
    assert settings.MARKETPLACE_NAME in html
    assert reverse("accounts:sign_up") in html
    assert "Test mode" in html


def test_the_home_page_serves_the_design_system_from_the_app(client):
    html = client.get(reverse("storefront:home")).content.decode()

    assert "/static/marketplace/css/app.css" in html
    assert "/static/django_htmx/htmx" in html
    assert "https://" not in html.split("<body", 1)[0]  # nothing in <head> comes from a CDN


@pytest.mark.parametrize("url_name", ["seller_center:dashboard", "creator_center:dashboard"])
def test_the_centers_ask_a_visitor_to_sign_in(client, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_creator_center_opens_for_a_signed_in_user(client):
    client.force_login(UserFactory())

    response = client.get(reverse("creator_center:dashboard"))

    assert response.status_code == 200
    assert "Creator Center" in response.content.decode()


def test_the_seller_center_sends_a_signed_in_user_without_a_shop_to_apply(client):
    client.force_login(UserFactory())

    response = client.get(reverse("seller_center:dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("seller_center:apply")


def test_the_seller_application_opens_in_the_seller_center(client):
    client.force_login(UserFactory())

    response = client.get(reverse("seller_center:apply"))

    assert response.status_code == 200
    assert "Seller Center" in response.content.decode()


def test_an_unknown_page_answers_a_friendly_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "<html" in response.content.decode().lower()


def test_the_admin_is_branded_and_lists_users(client, settings):
    client.force_login(StaffUserFactory())

    index = client.get(reverse("admin:index"))
    users = client.get(reverse("admin:accounts_user_changelist") + "?q=example")

    assert f"{settings.MARKETPLACE_NAME} platform admin" in index.content.decode()
    assert users.status_code == 200


def test_staff_can_create_a_user_in_the_admin(client):
    client.force_login(StaffUserFactory())

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Person@Example.com",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    from marketplace.accounts.models import User

    assert User.objects.filter(email="new.person@example.com").exists()


def test_a_shopper_cannot_open_the_admin(client):
    client.force_login(UserFactory())

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302


def test_the_api_schema_and_docs_are_served(client):
    client.force_login(UserFactory())

    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert "drf_spectacular_sidecar" in docs.content.decode()
