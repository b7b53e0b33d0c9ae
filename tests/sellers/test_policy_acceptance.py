"""Accepting the marketplace policies: only the texts in force and shown, only by owners and
admins, recorded once per version; a new version must be accepted again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policies.models import PolicyDocument
from sellers.models import SellerPolicyAcceptance, SellerRole
from sellers.selectors import seller_policies_outstanding
from sellers.services.policy_acceptance import (
    PolicyAcceptanceRefused,
    StalePolicyVersion,
    seller_policies_accept,
)
from tests.policies.factories import PolicyDocumentFactory, PolicyVersionFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerMemberFactory, ViolationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions():
    return [
        PolicyVersionFactory(
            document=PolicyDocumentFactory(kind=PolicyDocument.Kind.PRODUCT_LISTING)
        ),
        PolicyVersionFactory(
            document=PolicyDocumentFactory(kind=PolicyDocument.Kind.RETURNS_REFUNDS)
        ),
    ]


def test_accepting_records_who_when_and_from_where(versions):
    seller = ApprovedSellerFactory()

    seller_policies_accept(
        seller=seller,
        user=seller.owner,
        ip_address="203.0.113.9",
        version_ids=[v.pk for v in versions],
    )

    rows = SellerPolicyAcceptance.objects.filter(seller=seller)
    assert {row.policy_version_id for row in rows} == {v.pk for v in versions}
    assert {(row.accepted_by, row.ip_address) for row in rows} == {(seller.owner, "203.0.113.9")}
    assert seller_policies_outstanding(seller=seller) == []


def test_accepting_twice_records_each_version_once(versions):
    seller = ApprovedSellerFactory()
    ids = [v.pk for v in versions]

    seller_policies_accept(seller=seller, user=seller.owner, ip_address=None, version_ids=ids)
    seller_policies_accept(seller=seller, user=seller.owner, ip_address=None, version_ids=ids)

    assert SellerPolicyAcceptance.objects.count() == 2


def test_a_replaced_version_is_refused_and_nothing_is_recorded(versions):
    seller = ApprovedSellerFactory()
    shown = [v.pk for v in versions]
    PolicyVersionFactory(
        document=versions[0].document, effective_at=timezone.now() - timedelta(seconds=1)
    )

    with pytest.raises(StalePolicyVersion):
        seller_policies_accept(seller=seller, user=seller.owner, ip_address=None, version_ids=shown)
    assert not SellerPolicyAcceptance.objects.exists()


def test_a_version_not_yet_in_force_cannot_be_accepted(versions):
    seller = ApprovedSellerFactory()
    future = PolicyVersionFactory(
        document=versions[0].document, effective_at=timezone.now() + timedelta(days=1)
    )

    with pytest.raises(StalePolicyVersion):
        seller_policies_accept(
            seller=seller, user=seller.owner, ip_address=None, version_ids=[future.pk]
        )
    assert not SellerPolicyAcceptance.objects.exists()


@pytest.mark.parametrize(
    "role", [SellerRole.PRODUCT_MANAGER, SellerRole.ORDER_MANAGER, SellerRole.FINANCE]
)
def test_only_owners_and_admins_may_accept(versions, role):
    member = SellerMemberFactory(role=role)

    with pytest.raises(PolicyAcceptanceRefused):
        seller_policies_accept(
            seller=member.seller, user=member.user, ip_address=None, version_ids=[versions[0].pk]
        )
    assert not SellerPolicyAcceptance.objects.exists()


def test_someone_from_another_shop_cannot_accept_for_this_one(versions):
    seller, stranger = ApprovedSellerFactory(), ApprovedSellerFactory()

    with pytest.raises(PolicyAcceptanceRefused):
        seller_policies_accept(
            seller=seller, user=stranger.owner, ip_address=None, version_ids=[versions[0].pk]
        )
    assert not SellerPolicyAcceptance.objects.exists()


def test_the_page_lists_policies_marks_them_and_accepts_all(client, versions):
    seller = ApprovedSellerFactory()
    SellerPolicyAcceptance.objects.create(seller=seller, policy_version=versions[0])
    client.force_login(seller.owner)

    page = client.get(reverse("seller_center:policies")).content.decode()
    assert versions[0].document.title in page and versions[1].document.title in page
    assert "Accepted" in page and "Not accepted yet" in page
    assert reverse("policies:version", args=[versions[1].document.slug, versions[1].number]) in page

    response = client.post(
        reverse("seller_center:policies_accept"),
        {"version_ids": str(versions[1].pk), "confirm": "on"},
        follow=True,
    )

    assert "1 policy accepted" in response.content.decode()
    assert "accepted every current policy" in response.content.decode()
    assert seller_policies_outstanding(seller=seller) == []


def test_the_page_refuses_a_text_that_changed_while_it_was_open(client, versions):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)
    shown = ",".join(str(v.pk) for v in versions)
    PolicyVersionFactory(document=versions[1].document)

    response = client.post(
        reverse("seller_center:policies_accept"),
        {"version_ids": shown, "confirm": "on"},
        follow=True,
    )

    assert "A policy changed while this page was open" in response.content.decode()
    assert not SellerPolicyAcceptance.objects.exists()


def test_the_confirmation_box_is_required(client, versions):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:policies_accept"), {"version_ids": str(versions[0].pk)}
    )

    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    assert not SellerPolicyAcceptance.objects.exists()


def test_staff_who_cannot_accept_see_the_policies_but_no_button(client, versions):
    member = SellerMemberFactory(role=SellerRole.FINANCE)
    client.force_login(member.user)

    page = client.get(reverse("seller_center:policies")).content.decode()
    response = client.post(
        reverse("seller_center:policies_accept"),
        {"version_ids": str(versions[0].pk), "confirm": "on"},
    )

    assert versions[0].document.title in page
    assert "Accept all current policies" not in page
    assert (
        "Only the shop&#x27;s owner or an admin" in page
        or "Only the shop's owner or an admin" in page
    )
    assert response.status_code == 404
    assert not SellerPolicyAcceptance.objects.exists()


def test_the_page_shows_violation_points_and_the_thresholds(client):
    seller = ApprovedSellerFactory()
    ViolationFactory(seller=seller, points=5, reason="Shipped a counterfeit charger.")
    ViolationFactory(
        seller=seller,
        points=7,
        reason="An old case.",
        occurred_at=timezone.now() - timedelta(days=100),
    )
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:policies")).content.decode()

    assert "Shipped a counterfeit charger." in html
    assert "An old case." in html and "Expired" in html
    assert '<p class="stat-value">5</p>' in html  # only the active points count
    for threshold in ("12", "24", "48"):
        assert f'<p class="stat-value">{threshold}</p>' in html


def test_the_policies_page_query_count_does_not_grow_with_policies_or_violations(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("seller_center:policies")).status_code == 200
        return len(queries)

    PolicyVersionFactory(document=PolicyDocumentFactory(kind=PolicyDocument.Kind.PRODUCT_LISTING))
    ViolationFactory(seller=seller)
    count()  # a first request may create one-off rows (the enforcement settings)
    few = count()
    for kind in (PolicyDocument.Kind.RETURNS_REFUNDS, PolicyDocument.Kind.CANCELLATION):
        PolicyVersionFactory(document=PolicyDocumentFactory(kind=kind))
    for _ in range(8):
        ViolationFactory(seller=seller)

    assert count() == few
