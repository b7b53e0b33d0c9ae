from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.policies.factories import PolicyDocumentFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.now() + timedelta(days=n)


@pytest.fixture
def listing_policy():
    """Versions 1 and 2 have taken effect (2 is in force); version 3 is scheduled."""
    document = PolicyDocumentFactory(
        kind="product_listing",
        title="Product listing policy",
        slug="product-listing",
        summary="How to describe products.",
    )
    PolicyVersionFactory(
        document=document, number=1, effective_at=days(-90), body_markdown="## Old rules"
    )
    PolicyVersionFactory(
        document=document,
        number=2,
        effective_at=days(-10),
        body_markdown="## Current rules\n\n- Describe products **truthfully**.",
        change_summary="Clearer wording",
    )
    PolicyVersionFactory(
        document=document,
        number=3,
        effective_at=days(20),
        body_markdown="## Future rules",
        change_summary="Adds video rules",
    )
    return document


def version_url(document, number):
    return reverse("policies:version", args=[document.slug, number])


def test_the_index_lists_each_policy_with_its_version_in_force(client, listing_policy):
    response = client.get(reverse("policies:index"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Product listing policy" in html
    assert reverse("policies:detail", args=["product-listing"]) in html
    assert "Version 2" in html
    assert days(-10).strftime("%B %Y") in html
    assert "A new version takes effect on" in html


def test_the_index_leaves_out_a_policy_with_nothing_in_force_yet(client):
    document = PolicyDocumentFactory(kind="cancellation", title="Cancellation policy")
    PolicyVersionFactory(document=document, number=1, effective_at=days(5))

    response = client.get(reverse("policies:index"))

    assert "Cancellation policy" not in response.content.decode()
    assert "No policies published yet" in response.content.decode()


def test_the_index_makes_the_same_number_of_queries_for_many_policies(
    client, django_assert_max_num_queries
):
    for kind in ["product_listing", "cancellation", "order_shipping", "returns_refunds"]:
        document = PolicyDocumentFactory(kind=kind)
        PolicyVersionFactory(document=document, number=1, effective_at=days(-3))
        PolicyVersionFactory(document=document, number=2, effective_at=days(3))

    # Session and user lookups do not happen for a visitor; the page itself needs two queries.
    with django_assert_max_num_queries(2):
        response = client.get(reverse("policies:index"))

    assert response.content.decode().count("Update scheduled") == 4


def test_the_policy_page_shows_the_version_in_force_rendered(client, listing_policy):
    response = client.get(reverse("policies:detail", args=["product-listing"]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Current rules</h2>" in html
    assert "<strong>truthfully</strong>" in html
    assert "Old rules" not in html
    assert "Future rules" not in html
    assert "Version 2 · in force since" in html


def test_the_policy_page_links_the_history_of_versions_that_took_effect(client, listing_policy):
    html = client.get(reverse("policies:detail", args=["product-listing"])).content.decode()

    assert version_url(listing_policy, 1) in html
    assert version_url(listing_policy, 2) in html
    assert "Clearer wording" in html


def test_the_public_is_told_the_date_of_a_scheduled_version_but_not_given_its_text(
    client, listing_policy
):
    html = client.get(reverse("policies:detail", args=["product-listing"])).content.decode()

    assert "A new version takes effect on" in html
    assert days(20).strftime("%B %Y") in html
    assert "Adds video rules" in html
    assert version_url(listing_policy, 3) not in html


def test_staff_get_a_link_to_preview_the_scheduled_version(client, listing_policy):
    client.force_login(StaffUserFactory())

    html = client.get(reverse("policies:detail", args=["product-listing"])).content.decode()

    assert version_url(listing_policy, 3) in html


def test_an_older_version_can_be_read_and_says_it_was_superseded(client, listing_policy):
    response = client.get(version_url(listing_policy, 1))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Old rules</h2>" in html
    assert "no longer in force" in html
    assert "Superseded by version 2" in html


def test_the_version_in_force_reads_as_in_force(client, listing_policy):
    html = client.get(version_url(listing_policy, 2)).content.decode()

    assert "In force" in html
    assert "no longer in force" not in html


@pytest.mark.parametrize("make_user", [None, UserFactory])
def test_a_scheduled_version_is_not_found_for_the_public(client, listing_policy, make_user):
    if make_user:
        client.force_login(make_user())

    assert client.get(version_url(listing_policy, 3)).status_code == 404


def test_staff_can_preview_a_scheduled_version(client, listing_policy):
    client.force_login(StaffUserFactory())

    response = client.get(version_url(listing_policy, 3))

    assert response.status_code == 200
    assert "Preview for staff" in response.content.decode()


def test_unknown_policies_and_versions_are_not_found(client, listing_policy):
    assert client.get(reverse("policies:detail", args=["no-such-policy"])).status_code == 404
    assert client.get(version_url(listing_policy, 99)).status_code == 404


def test_a_policy_with_nothing_in_force_is_not_found(client):
    document = PolicyDocumentFactory(kind="cancellation", slug="cancellation")
    PolicyVersionFactory(document=document, number=1, effective_at=days(5))

    assert client.get(reverse("policies:detail", args=["cancellation"])).status_code == 404


def test_html_in_a_policy_body_never_reaches_the_page(client):
    document = PolicyDocumentFactory(slug="product-listing")
    PolicyVersionFactory(
        document=document,
        number=1,
        effective_at=days(-1),
        body_markdown=(
            "Rules\n\n<script>alert('owned')</script>\n\n"
            '<img src=x onerror="alert(1)">\n\n[click](javascript:alert(2))'
        ),
    )

    for url in [reverse("policies:detail", args=["product-listing"]), version_url(document, 1)]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "onerror" not in html
        assert "javascript:" not in html
