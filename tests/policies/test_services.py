from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace.errors import DomainError
from policies.models import PolicyVersion
from policies.services import (
    PolicyVersionDateInvalid,
    PolicyVersionInForce,
    policy_version_create,
    policy_version_update,
    policy_version_withdraw,
)
from tests.accounts.factories import StaffUserFactory
from tests.policies.factories import PolicyDocumentFactory, PolicyVersionFactory

pytestmark = pytest.mark.django_db


def in_days(days):
    return timezone.now() + timedelta(days=days)


def create(document, *, effective_at, body="New text", created_by=None):
    return policy_version_create(
        document=document,
        body_markdown=body,
        change_summary="Clarified the rules",
        effective_at=effective_at,
        created_by=created_by,
    )


def test_the_first_version_of_a_document_is_number_one():
    document = PolicyDocumentFactory()
    staff = StaffUserFactory()

    version = create(document, effective_at=in_days(30), created_by=staff)

    assert version.number == 1
    assert version.created_by == staff
    assert version.change_summary == "Clarified the rules"


def test_it_assigns_the_number_after_the_highest_existing_one():
    document = PolicyDocumentFactory()
    PolicyVersionFactory(document=document, number=1, effective_at=in_days(-60))
    PolicyVersionFactory(document=document, number=2, effective_at=in_days(-10))

    version = create(document, effective_at=in_days(30))

    assert version.number == 3


def test_numbers_are_counted_per_document():
    listing = PolicyDocumentFactory(kind="product_listing")
    shipping = PolicyDocumentFactory(kind="order_shipping")
    PolicyVersionFactory(document=listing, number=1, effective_at=in_days(-5))

    assert create(shipping, effective_at=in_days(1)).number == 1


def test_an_effective_date_in_the_past_is_refused_and_nothing_is_written():
    document = PolicyDocumentFactory()

    with pytest.raises(PolicyVersionDateInvalid, match="in the past"):
        create(document, effective_at=in_days(-1))

    assert not PolicyVersion.objects.exists()


def test_a_date_of_now_counts_as_from_now_on():
    document = PolicyDocumentFactory()

    version = create(document, effective_at=timezone.now() - timedelta(seconds=30))

    assert version.has_taken_effect


def test_a_date_before_the_latest_version_is_refused():
    document = PolicyDocumentFactory()
    PolicyVersionFactory(document=document, number=1, effective_at=in_days(20))

    with pytest.raises(PolicyVersionDateInvalid, match="previous version"):
        create(document, effective_at=in_days(10))

    assert PolicyVersion.objects.count() == 1


def test_a_scheduled_version_can_be_corrected():
    version = PolicyVersionFactory(number=1, effective_at=in_days(10), body_markdown="Old")

    policy_version_update(
        version=version, body_markdown="Fixed", change_summary="Typo", effective_at=in_days(15)
    )

    version.refresh_from_db()
    assert version.body_markdown == "Fixed"
    assert version.change_summary == "Typo"


def test_a_version_in_force_cannot_be_changed():
    version = PolicyVersionFactory(number=1, effective_at=in_days(-1), body_markdown="Agreed")

    with pytest.raises(PolicyVersionInForce):
        policy_version_update(
            version=version, body_markdown="Sneaky", change_summary="", effective_at=in_days(1)
        )

    version.refresh_from_db()
    assert version.body_markdown == "Agreed"


def test_a_correction_cannot_move_a_version_past_the_next_one():
    document = PolicyDocumentFactory()
    second = PolicyVersionFactory(document=document, number=2, effective_at=in_days(10))
    PolicyVersionFactory(document=document, number=3, effective_at=in_days(20))

    with pytest.raises(PolicyVersionDateInvalid, match="next version"):
        policy_version_update(
            version=second, body_markdown="x", change_summary="", effective_at=in_days(25)
        )

    second.refresh_from_db()
    assert second.effective_at < in_days(11)


def test_the_latest_scheduled_version_can_be_withdrawn():
    version = PolicyVersionFactory(number=1, effective_at=in_days(10))

    policy_version_withdraw(version=version)

    assert not PolicyVersion.objects.exists()


def test_a_version_in_force_cannot_be_withdrawn():
    version = PolicyVersionFactory(number=1, effective_at=in_days(-1))

    with pytest.raises(PolicyVersionInForce):
        policy_version_withdraw(version=version)

    assert PolicyVersion.objects.filter(pk=version.pk).exists()


def test_only_the_latest_version_can_be_withdrawn():
    document = PolicyDocumentFactory()
    first = PolicyVersionFactory(document=document, number=1, effective_at=in_days(5))
    PolicyVersionFactory(document=document, number=2, effective_at=in_days(10))

    with pytest.raises(DomainError, match="Only the latest"):
        policy_version_withdraw(version=first)

    assert PolicyVersion.objects.count() == 2
