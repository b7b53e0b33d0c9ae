"""The local gateway's onboarding page: only the shop's owner may use it, it says it is test
mode, it validates the test bank details, and it only ever redirects back to this site."""

import pytest
from django.urls import reverse

from marketplace.payments.models import LocalConnectedAccount
from marketplace.payments.services import (
    InvalidBankDetails,
    local_account_complete_onboarding,
)
from sellers.models import SellerRole
from sellers.services.setup import payout_account_connect
from tests.accounts.factories import UserFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db

DETAILS = {"holder": "Mia Lopez", "account_number": "000123456789"}


@pytest.fixture
def onboarding_path(seller):
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")
    external_id = LocalConnectedAccount.objects.get().external_id
    return reverse("payments:local_onboarding", args=[external_id])


def test_the_page_needs_a_signed_in_user(client, onboarding_path):
    response = client.get(onboarding_path)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_anyone_but_the_owner_gets_404(client, seller, onboarding_path):
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN)
    for user in (UserFactory(), ApprovedSellerFactory().owner, admin.user):
        client.force_login(user)
        assert client.get(onboarding_path).status_code == 404
        assert client.post(onboarding_path, DETAILS).status_code == 404
    assert LocalConnectedAccount.objects.get().details_submitted is False


def test_an_unknown_account_gets_404(client, seller):
    client.force_login(seller.owner)

    assert client.get(reverse("payments:local_onboarding", args=["acct_nope"])).status_code == 404


def test_the_page_says_test_mode_and_offers_the_test_number(client, seller, onboarding_path):
    client.force_login(seller.owner)

    html = client.get(onboarding_path).content.decode()

    assert "TEST MODE" in html
    assert "000123456789" in html


@pytest.mark.parametrize("number", ["1234567", "123456789012345678", "1234 5678 9", "abcdefghij"])
def test_an_account_number_must_be_8_to_17_digits(client, seller, onboarding_path, number):
    client.force_login(seller.owner)

    response = client.post(onboarding_path, {**DETAILS, "account_number": number})

    assert response.status_code == 200
    assert "8 to 17 digits" in response.content.decode()
    assert LocalConnectedAccount.objects.get().details_submitted is False


def test_completing_keeps_only_the_last_four_digits():
    account = LocalConnectedAccount.objects.create(
        external_id="acct_x", email="a@example.com", country="US"
    )

    local_account_complete_onboarding(
        external_id="acct_x", holder=" Mia  Lopez ", account_number="12345678901"
    )

    account.refresh_from_db()
    assert (account.details_submitted, account.bank_last4, account.bank_account_holder) == (
        True,
        "8901",
        "Mia Lopez",
    )


def test_the_service_refuses_bad_details_and_writes_nothing():
    account = LocalConnectedAccount.objects.create(
        external_id="acct_x", email="a@example.com", country="US"
    )

    with pytest.raises(InvalidBankDetails):
        local_account_complete_onboarding(
            external_id="acct_x", holder="", account_number="12345678"
        )
    with pytest.raises(InvalidBankDetails):
        local_account_complete_onboarding(external_id="acct_x", holder="Mia", account_number="12")

    account.refresh_from_db()
    assert account.details_submitted is False


@pytest.mark.parametrize(
    "return_url",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "http://evil.example/seller/settings/payouts/return/",
        "javascript:alert(1)",
        "",
    ],
)
def test_a_return_url_off_this_site_is_refused(client, seller, onboarding_path, return_url):
    client.force_login(seller.owner)

    response = client.post(f"{onboarding_path}?return_url={return_url}", DETAILS)

    assert response.status_code == 302
    assert response.url == "/seller/"


@pytest.mark.parametrize(
    "return_url",
    ["/seller/settings/payouts/return/", "http://testserver/seller/settings/payouts/return/"],
)
def test_a_return_url_on_this_site_is_followed(client, seller, onboarding_path, return_url):
    client.force_login(seller.owner)

    response = client.post(onboarding_path, {**DETAILS, "return_url": return_url})

    assert response.status_code == 302
    assert response.url == return_url


def test_the_page_is_gone_when_another_gateway_is_configured(
    client, settings, seller, onboarding_path
):
    client.force_login(seller.owner)
    settings.PAYMENT_GATEWAY = "stripe"

    assert client.get(onboarding_path).status_code == 404


def test_with_no_permission_check_registered_nobody_may_onboard(monkeypatch, seller):
    from marketplace.payments import services

    monkeypatch.setattr(services, "_onboarding_permissions", [])

    assert services.local_onboarding_allowed(user=seller.owner, external_id="acct_any") is False
