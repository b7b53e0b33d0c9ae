"""The dashboard: the onboarding checklist (the same list that gates listing), notices about the
shop's status, and the banner when a policy changes."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from policies.models import PolicyDocument
from sellers.models import PayoutAccount, SellerMember, SellerRole, SellerStatus, ShopAddress
from sellers.prerequisites import seller_can_list, seller_listing_prerequisites
from tests.accounts.factories import UserFactory
from tests.policies.factories import PolicyVersionFactory
from tests.sellers.factories import (
    ApprovedSellerFactory,
    SellerFactory,
    SellerMemberFactory,
    ViolationFactory,
    ready_seller,
)

pytestmark = pytest.mark.django_db


def prerequisite(seller, key):
    return next(p for p in seller_listing_prerequisites(seller=seller) if p.key == key)


def test_a_new_seller_has_seven_steps_none_of_them_done_but_policies_when_none_exist():
    seller = SellerFactory()

    steps = seller_listing_prerequisites(seller=seller)

    assert [step.key for step in steps] == [
        "application_approved",
        "policies_accepted",
        "ship_from_address",
        "return_address",
        "shipping_template",
        "payout_account",
        "good_standing",
    ]
    assert {step.key for step in steps if step.done} == {"policies_accepted", "good_standing"}
    assert seller_can_list(seller=seller) is False


def test_a_seller_with_every_step_done_can_list():
    seller = ready_seller()

    assert all(step.done for step in seller_listing_prerequisites(seller=seller))
    assert seller_can_list(seller=seller) is True


def test_each_missing_step_alone_stops_listing():
    seller = ready_seller()
    seller.addresses.filter(kind=ShopAddress.Kind.RETURN).delete()

    assert prerequisite(seller, "return_address").done is False
    assert seller_can_list(seller=seller) is False


def test_a_payout_account_counts_only_once_payouts_are_enabled():
    seller = ready_seller()
    PayoutAccount.objects.filter(seller=seller).update(
        payouts_enabled=False, status=PayoutAccount.Status.ONBOARDING
    )

    assert prerequisite(seller, "payout_account").done is False


def test_a_suspended_shop_cannot_list():
    seller = ready_seller()
    seller.status = SellerStatus.SUSPENDED
    seller.save()

    assert seller_can_list(seller=seller) is False


def test_a_new_policy_version_reopens_the_policy_step():
    seller = ready_seller()
    document = PolicyDocument.objects.get()
    PolicyVersionFactory(document=document, effective_at=timezone.now() - timedelta(minutes=1))

    assert prerequisite(seller, "policies_accepted").done is False
    assert seller_can_list(seller=seller) is False


def test_a_version_that_takes_effect_later_changes_nothing_yet():
    seller = ready_seller()
    document = PolicyDocument.objects.get()
    PolicyVersionFactory(document=document, effective_at=timezone.now() + timedelta(days=3))

    assert seller_can_list(seller=seller) is True


def test_the_dashboard_shows_progress_and_links_each_open_step(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert "2 of 7" in html
    assert "Get ready to sell" in html
    assert "Ready to list products" not in html
    for url_name in ("address_ship_from", "address_return", "shipping", "payouts"):
        assert f'href="{reverse(f"seller_center:{url_name}")}"' in html


def test_the_checklist_goes_green_when_every_step_is_done(client):
    seller = ready_seller()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert "7 of 7" in html
    assert "Ready to list products" in html
    assert "is-ready" in html


def test_a_member_who_cannot_fix_a_step_is_told_to_ask_the_owner(client):
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller, role=SellerRole.FINANCE)
    client.force_login(member.user)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert f'href="{reverse("seller_center:shipping")}"' not in html
    assert "Ask the shop&#x27;s owner" in html or "Ask the shop's owner" in html


def test_an_unapproved_shop_is_pointed_at_its_application(client):
    seller = SellerFactory(status=SellerStatus.DRAFT)
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert f'href="{reverse("seller_center:application")}"' in html
    assert reverse("shops:detail", args=[seller.slug]) not in html


def test_an_approved_shop_links_to_its_public_page(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert f'href="{reverse("shops:detail", args=[seller.slug])}"' in html


@pytest.mark.parametrize(
    ("status", "headline"),
    [
        (SellerStatus.SUSPENDED, "Your shop is suspended."),
        (SellerStatus.NEEDS_INFO, "needs more information"),
    ],
)
def test_the_dashboard_shows_the_staff_message_for_a_suspended_or_needs_info_shop(
    client, status, headline
):
    seller = SellerFactory(status=status, status_message="Send a clearer photo of your passport.")
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert headline in html
    assert "Send a clearer photo of your passport." in html


def test_a_changed_policy_shows_a_banner_until_it_is_accepted(client):
    seller = ready_seller()
    client.force_login(seller.owner)
    assert (
        "A policy has changed"
        not in client.get(reverse("seller_center:dashboard")).content.decode()
    )

    PolicyVersionFactory(document=PolicyDocument.objects.get())
    html = client.get(reverse("seller_center:dashboard")).content.decode()

    assert "A policy has changed: accept it to keep listing" in html
    assert "6 of 7" in html


def test_violation_points_over_the_restriction_threshold_stop_listing():
    seller = ready_seller()
    ViolationFactory(seller=seller, points=24)

    assert prerequisite(seller, "good_standing").done is False
    assert seller_can_list(seller=seller) is False


def test_a_signed_in_user_without_a_shop_is_sent_to_apply(client):
    client.force_login(UserFactory())

    response = client.get(reverse("seller_center:dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("seller_center:apply")


def test_a_removed_member_loses_access_on_the_next_request(client):
    member = SellerMemberFactory(role=SellerRole.ADMIN)
    client.force_login(member.user)
    assert client.get(reverse("seller_center:dashboard")).status_code == 200

    SellerMember.objects.filter(pk=member.pk).delete()
    response = client.get(reverse("seller_center:dashboard"))

    assert response.status_code == 302
    assert response.url == reverse("seller_center:apply")


def test_the_dashboard_query_count_does_not_grow_with_violations(
    client, django_assert_max_num_queries
):
    seller = ready_seller()
    for _ in range(5):
        ViolationFactory(seller=seller, points=1)
    client.force_login(seller.owner)

    with django_assert_max_num_queries(25):
        client.get(reverse("seller_center:dashboard"))
