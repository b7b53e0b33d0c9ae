"""Each role opens exactly the Seller Center sections the role table gives it; every other door
answers 404, and the navigation never shows a door that would."""

import pytest
from django.urls import reverse

from sellers.models import SellerRole, SellerStatus
from sellers.roles import ROLE_SECTIONS, Section
from tests.accounts.factories import UserFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db

# One page per section (the section's main page).
SECTION_PAGES = {
    Section.DASHBOARD: "seller_center:dashboard",
    Section.PRODUCTS: "seller_products:list",
    Section.ORDERS: "seller_orders:list",
    Section.RETURNS: "seller_returns:list",
    Section.FINANCE: "seller_center:finance",
    Section.AFFILIATES: "seller_center:affiliates",
    Section.MESSAGES: "seller_center:messages",
    Section.POLICIES: "seller_center:policies",
    Section.SETTINGS: "seller_center:settings",
    Section.STAFF: "seller_center:staff",
}
# Pages that belong to a section beyond its main page.
EXTRA_PAGES = {
    "seller_center:qualifications": Section.PRODUCTS,
    "seller_center:shipping": Section.SETTINGS,
    "seller_center:address_ship_from": Section.SETTINGS,
    "seller_center:address_return": Section.SETTINGS,
    "seller_center:payouts": Section.SETTINGS,
}
APPROVED_ONLY = {
    Section.PRODUCTS,
    Section.ORDERS,
    Section.RETURNS,
    Section.FINANCE,
    Section.AFFILIATES,
    Section.MESSAGES,
}

CASES = [
    (role, url_name, section)
    for role in SellerRole.values
    for url_name, section in [*((v, k) for k, v in SECTION_PAGES.items()), *EXTRA_PAGES.items()]
]


def member_with_role(role):
    seller = ApprovedSellerFactory()
    if role == SellerRole.OWNER:
        return seller.members.get(role=SellerRole.OWNER)
    return SellerMemberFactory(seller=seller, role=role)


def test_every_section_has_a_page():
    assert set(SECTION_PAGES) == set(Section)


@pytest.mark.parametrize(("role", "url_name", "section"), CASES)
def test_a_role_opens_its_sections_and_gets_404_elsewhere(client, role, url_name, section):
    member = member_with_role(role)
    client.force_login(member.user)

    response = client.get(reverse(url_name))

    expected = 200 if section in ROLE_SECTIONS[role] else 404
    assert response.status_code == expected


@pytest.mark.parametrize("role", SellerRole.values)
def test_the_navigation_shows_exactly_the_sections_a_role_can_open(client, role):
    member = member_with_role(role)
    client.force_login(member.user)

    html = client.get(reverse("seller_center:dashboard")).content.decode()
    nav = html.split('aria-label="Seller Center"', 1)[1].split("</nav>", 1)[0]

    for section, url_name in SECTION_PAGES.items():
        shown = f'href="{reverse(url_name)}"' in nav
        assert shown == (section in ROLE_SECTIONS[role]), (role, section)


def test_the_navigation_marks_the_current_page(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:shipping")).content.decode()

    assert f'<a href="{reverse("seller_center:settings")}" aria-current="page">Settings</a>' in html
    assert f'<a href="{reverse("seller_center:dashboard")}" aria-current' not in html


@pytest.mark.parametrize(
    "status",
    [SellerStatus.DRAFT, SellerStatus.SUBMITTED, SellerStatus.NEEDS_INFO, SellerStatus.SUSPENDED],
)
@pytest.mark.parametrize("section", sorted(APPROVED_ONLY))
def test_selling_sections_answer_404_until_the_shop_is_approved(client, status, section):
    seller = SellerFactory(status=status)
    client.force_login(seller.owner)

    assert client.get(reverse(SECTION_PAGES[section])).status_code == 404


def test_an_unapproved_shop_sees_the_dashboard_and_the_set_up_pages_but_no_selling_sections(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:dashboard")).content.decode()
    nav = html.split('aria-label="Seller Center"', 1)[1].split("</nav>", 1)[0]

    for section in APPROVED_ONLY:
        assert f'href="{reverse(SECTION_PAGES[section])}"' not in nav
    for url_name in ("seller_center:policies", "seller_center:settings", "seller_center:staff"):
        assert f'href="{reverse(url_name)}"' in nav
        assert client.get(reverse(url_name)).status_code == 200


def test_the_orders_section_lists_orders_and_says_so_when_there_are_none(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    assert "No orders yet" in client.get(reverse("seller_orders:list")).content.decode()


@pytest.mark.parametrize(
    ("url_name", "coming"),
    [
        ("seller_center:affiliates", "This page will let you open affiliate campaigns"),
        ("seller_center:messages", "This page will hold your conversations with shoppers"),
    ],
)
def test_the_sections_not_built_yet_say_so_plainly(client, url_name, coming):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse(url_name)).content.decode()

    assert coming in html
    assert "it is not built yet" in html
    assert "empty-state" not in html


def test_finance_shows_the_payout_account_status_and_an_empty_history(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:finance")).content.decode()

    assert "Not connected" in html
    assert "No transactions yet" in html


def test_someone_without_a_shop_sees_only_the_application_in_the_navigation(client):
    client.force_login(UserFactory())

    html = client.get(reverse("seller_center:apply")).content.decode()
    nav = html.split('aria-label="Seller Center"', 1)[1].split("</nav>", 1)[0]

    assert "Your application" in nav
    assert f'href="{reverse("seller_center:dashboard")}"' not in nav
