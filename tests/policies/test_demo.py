import pytest

from policies.demo import seed_policies
from policies.models import Category, KeywordRule, PolicyDocument, PolicyStatus, PolicyVersion
from policies.screening import ListingFacts, SellerCredentials, screen_listing
from policies.selectors import policy_versions_in_force, screening_rules_load

pytestmark = pytest.mark.django_db


def counts():
    return [
        model.objects.count() for model in (PolicyDocument, PolicyVersion, Category, KeywordRule)
    ]


def test_it_seeds_every_policy_with_a_first_version_in_force():
    seed_policies()

    versions = policy_versions_in_force()
    assert {v.document.kind for v in versions} == set(PolicyDocument.Kind.values)
    for version in versions:
        assert version.number == 1
        assert version.effective_at.isoformat() == "2026-01-01T00:00:00+00:00"
        assert 250 <= len(version.body_markdown.split()) <= 600
        assert "## " in version.body_markdown


def test_it_seeds_the_category_tree_with_its_policy_status():
    seed_policies()

    cosmetics = Category.objects.get(slug="cosmetics")
    assert cosmetics.parent.slug == "beauty-personal-care"
    assert cosmetics.policy_status == PolicyStatus.RESTRICTED
    assert Category.objects.get(slug="supplements").policy_status == PolicyStatus.RESTRICTED
    assert Category.objects.get(slug="fitness-equipment").policy_status == PolicyStatus.ALLOWED
    political = Category.objects.get(slug="political-merchandise")
    assert political.policy_status == PolicyStatus.PROHIBITED
    assert political.policy_reason == (
        "Political campaign merchandise is not allowed on the marketplace"
    )
    assert Category.objects.filter(parent__isnull=True).count() == 10


def test_running_it_twice_creates_nothing_new_and_repairs_edits():
    seed_policies()
    before = counts()
    KeywordRule.objects.filter(phrase="vintage").update(action="block", is_active=False)

    seed_policies()

    assert counts() == before
    rule = KeywordRule.objects.get(phrase="vintage")
    assert (rule.action, rule.is_active) == ("review", True)


def test_the_seeded_rules_screen_listings_as_the_policies_say():
    seed_policies()
    rules = screening_rules_load()
    shoes = Category.objects.get(slug="shoes").pk
    nobody = SellerCredentials()

    def outcome(title, category_id=shoes):
        listing = ListingFacts(title=title, description="", category_id=category_id, brand="")
        return screen_listing(listing=listing, rules=rules, credentials=nobody).outcome

    assert outcome("Burgundy suede boots") == "approve"
    assert outcome("Vintage suede boots") == "review"
    assert outcome("Replica designer sneakers") == "reject"
    assert outcome("Campaign cap", Category.objects.get(slug="political-merchandise").pk) == (
        "reject"
    )
    assert outcome("Vitamin C gummies", Category.objects.get(slug="supplements").pk) == "reject"
