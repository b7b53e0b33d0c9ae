from datetime import timedelta

import pytest
from django.utils import timezone

from policies.models import PolicyStatus
from policies.selectors import (
    policy_index_entries,
    policy_version_in_force,
    policy_version_next_scheduled,
    policy_version_superseded_by,
    policy_versions_in_force,
    policy_versions_taken_effect,
    screening_rules_load,
)
from tests.policies.factories import (
    CategoryFactory,
    KeywordRuleFactory,
    PolicyDocumentFactory,
    PolicyVersionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Version 1 in force since last month, version 2 scheduled for next week."""
    now = timezone.now()
    document = PolicyDocumentFactory()
    first = PolicyVersionFactory(document=document, number=1, effective_at=now - timedelta(days=30))
    second = PolicyVersionFactory(document=document, number=2, effective_at=now + timedelta(days=7))
    return document, first, second


def test_a_future_version_is_not_yet_in_force(history):
    document, first, second = history

    assert policy_version_in_force(document=document) == first
    assert policy_version_next_scheduled(document=document) == second
    assert [v.pk for v in policy_versions_in_force()] == [first.pk]


def test_the_newer_version_takes_over_at_its_date(history):
    document, first, second = history

    at = second.effective_at
    assert policy_version_in_force(document=document, at=at) == second
    assert policy_version_in_force(document=document, at=at - timedelta(seconds=1)) == first
    assert [v.pk for v in policy_versions_in_force(at=at)] == [second.pk]
    assert policy_version_next_scheduled(document=document, at=at) is None


def test_a_document_with_nothing_in_force_yet_has_no_version_in_force():
    document = PolicyDocumentFactory()
    PolicyVersionFactory(document=document, number=1, effective_at=timezone.now() + timedelta(1))

    assert policy_version_in_force(document=document) is None
    assert policy_versions_in_force() == []


def test_the_public_history_holds_only_versions_that_took_effect(history):
    document, first, second = history

    assert list(policy_versions_taken_effect(document=document)) == [first]
    assert list(policy_versions_taken_effect(document=document, at=second.effective_at)) == [
        second,
        first,
    ]


def test_a_version_is_superseded_only_once_its_successor_takes_effect(history):
    _, first, second = history

    assert policy_version_superseded_by(version=first) is None
    assert policy_version_superseded_by(version=first, at=second.effective_at) == second


def test_the_index_pairs_each_document_with_its_version_in_force_and_next_one(history):
    document, first, second = history
    other = PolicyDocumentFactory(kind="cancellation")
    other_version = PolicyVersionFactory(
        document=other, number=1, effective_at=timezone.now() - timedelta(days=1)
    )

    entries = {entry.document.pk: entry for entry in policy_index_entries()}

    assert entries[document.pk].version_in_force == first
    assert entries[document.pk].next_version == second
    assert entries[other.pk].version_in_force == other_version
    assert entries[other.pk].next_version is None


def test_screening_rules_load_reads_every_category_and_only_active_rules(
    django_assert_num_queries,
):
    parent = CategoryFactory(name="Health", policy_status=PolicyStatus.ALLOWED)
    child = CategoryFactory(
        name="Supplements",
        parent=parent,
        policy_status=PolicyStatus.RESTRICTED,
        policy_reason="Needs a qualification.",
        qualification_hint="Upload a lab certificate.",
    )
    KeywordRuleFactory(phrase="firearm", action="block", suggestion="Remove it")
    KeywordRuleFactory(phrase="vintage", action="review", is_active=False)

    with django_assert_num_queries(2):
        rules = screening_rules_load()

    assert rules.categories[child.pk].parent_id == parent.pk
    assert rules.categories[child.pk].policy_status == "restricted"
    assert rules.categories[child.pk].qualification_hint == "Upload a lab certificate."
    assert [(k.phrase, k.action, k.suggestion) for k in rules.keywords] == [
        ("firearm", "block", "Remove it")
    ]
