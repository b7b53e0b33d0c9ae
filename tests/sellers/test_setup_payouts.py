"""Connecting a payout account through the gateway: connect, onboard at the provider (the local
test gateway here), come back, and the account is active. Only the shop's owner may connect."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from marketplace.payments.models import LocalConnectedAccount
from sellers.models import PayoutAccount, SellerRole
from sellers.prerequisites import seller_listing_prerequisites
from sellers.services.setup import (
    PayoutAccountMissing,
    payout_account_connect,
    payout_account_refresh,
)
from tests.sellers.factories import ApprovedSellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def test_connecting_opens_a_gateway_account_and_returns_the_onboarding_link():
    seller = ApprovedSellerFactory(contact_email="shop@example.com", country="DE")

    url = payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")

    account = PayoutAccount.objects.get(seller=seller)
    assert (account.gateway, account.status) == ("local", PayoutAccount.Status.ONBOARDING)
    assert account.external_id == f"acct_local_seller-{seller.pk}"
    local = LocalConnectedAccount.objects.get(external_id=account.external_id)
    assert (local.email, local.country) == ("shop@example.com", "DE")
    assert url.startswith(reverse("payments:local_onboarding", args=[account.external_id]))
    return_url = parse_qs(urlsplit(url).query)["return_url"][0]
    assert return_url == "http://testserver" + reverse("seller_center:payout_return")


def test_connecting_twice_reuses_the_same_account():
    seller = ApprovedSellerFactory()

    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")

    assert PayoutAccount.objects.filter(seller=seller).count() == 1
    assert LocalConnectedAccount.objects.count() == 1


def test_refreshing_without_an_account_is_refused():
    with pytest.raises(PayoutAccountMissing):
        payout_account_refresh(seller=ApprovedSellerFactory())

    assert not PayoutAccount.objects.exists()
    assert not LocalConnectedAccount.objects.exists()


def test_refreshing_before_onboarding_keeps_the_account_onboarding():
    seller = ApprovedSellerFactory()
    payout_account_connect(seller=seller, actor=seller.owner, site_root="http://testserver")

    account = payout_account_refresh(seller=seller)

    assert account.status == PayoutAccount.Status.ONBOARDING
    assert account.payouts_enabled is False
    assert account.requirements_due


def test_the_whole_onboarding_loop_through_the_local_gateway(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    # 1. Connect: the Seller Center sends the seller to the gateway's onboarding page.
    response = client.post(reverse("seller_center:payout_connect"))
    assert response.status_code == 302
    onboarding_url = response.url
    external_id = PayoutAccount.objects.get(seller=seller).external_id
    assert onboarding_url.startswith(reverse("payments:local_onboarding", args=[external_id]))

    # 2. The gateway's page, clearly in test mode.
    page = client.get(onboarding_url)
    assert page.status_code == 200
    assert "TEST MODE" in page.content.decode()
    assert "000123456789" in page.content.decode()

    # 3. Submitting test bank details sends the seller back to the Seller Center.
    response = client.post(
        onboarding_url, {"holder": "Mia Lopez", "account_number": "000123456789"}
    )
    assert response.status_code == 302
    assert response.url == "http://testserver" + reverse("seller_center:payout_return")

    # 4. The return page reads the account from the gateway: active, with the bank's last digits.
    response = client.get(response.url, follow=True)
    assert "Your payout account is connected" in response.content.decode()
    account = PayoutAccount.objects.get(seller=seller)
    assert account.status == PayoutAccount.Status.ACTIVE
    assert (account.charges_enabled, account.payouts_enabled) == (True, True)
    assert account.bank_last4 == "6789"
    assert account.requirements_due == []
    step = next(p for p in seller_listing_prerequisites(seller=seller) if p.key == "payout_account")
    assert step.done is True


def test_returning_before_finishing_onboarding_says_so(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)
    client.post(reverse("seller_center:payout_connect"))

    response = client.get(reverse("seller_center:payout_return"), follow=True)

    assert "Onboarding is not finished yet" in response.content.decode()
    assert PayoutAccount.objects.get(seller=seller).status == PayoutAccount.Status.ONBOARDING


def test_a_member_without_the_settings_section_cannot_connect(client):
    member = SellerMemberFactory(role=SellerRole.FINANCE)
    client.force_login(member.user)

    assert client.post(reverse("seller_center:payout_connect")).status_code == 404
    assert not PayoutAccount.objects.exists()


def test_connect_needs_a_post(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    assert client.get(reverse("seller_center:payout_connect")).status_code == 405
    assert not PayoutAccount.objects.exists()


def test_only_the_owner_can_start_payout_onboarding(client):
    from sellers.models import PayoutAccount, SellerRole
    from tests.sellers.factories import SellerMemberFactory

    member = SellerMemberFactory(role=SellerRole.ADMIN)
    client.force_login(member.user)

    page = client.get(reverse("seller_center:payouts")).content.decode()
    response = client.post(reverse("seller_center:payout_connect"), follow=True)

    assert "Only the shop's owner can connect" in page
    assert "Connect payout account</button>" not in page
    assert "Only the shop&#x27;s owner can connect" in response.content.decode()
    assert not PayoutAccount.objects.exists()
