"""Violation points: they expire, and crossing the thresholds warns, stops listing, or suspends.
The thresholds come from EnforcementSettings, so staff can change them. A seller that cannot be
suspended hears of each step once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from policies.models import EnforcementSettings
from sellers.models import SellerStatus, SellerStatusEvent, Violation
from sellers.prerequisites import seller_active_violation_points, seller_can_list
from sellers.services.violations import InvalidViolation, violation_record
from tests.accounts.factories import StaffUserFactory
from tests.sellers.factories import (
    ApprovedSellerFactory,
    SellerFactory,
    ready_seller,
    record_violation,
)

pytestmark = pytest.mark.django_db


def test_a_violation_expires_after_the_configured_days():
    seller = ApprovedSellerFactory()
    occurred = timezone.now() - timedelta(days=10)

    violation = record_violation(seller, 3, occurred_at=occurred)

    assert violation.expires_at == occurred + timedelta(days=90)


def test_points_older_than_90_days_no_longer_count():
    seller = ApprovedSellerFactory()
    record_violation(seller, 5, occurred_at=timezone.now() - timedelta(days=91))
    record_violation(seller, 4, occurred_at=timezone.now() - timedelta(days=89))
    record_violation(seller, 2)

    assert seller_active_violation_points(seller=seller) == 6


def test_the_expiry_period_is_configurable():
    EnforcementSettings.objects.update_or_create(pk=1, defaults={"points_expire_after_days": 30})
    seller = ApprovedSellerFactory()

    record_violation(seller, 5, occurred_at=timezone.now() - timedelta(days=31))

    assert seller_active_violation_points(seller=seller) == 0


def test_below_the_warning_threshold_nothing_happens(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ready_seller()

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 11)

    assert mailoutbox == []
    assert seller_can_list(seller=seller) is True


def test_crossing_the_warning_threshold_emails_the_owner_once(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ready_seller()

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 8)
        record_violation(seller, 4)  # 12: the warning threshold
        record_violation(seller, 2)  # 14: already warned

    [email] = mailoutbox
    assert email.to == [seller.owner.email]
    assert "Warning" in email.subject
    assert "12 active violation points" in email.body
    assert seller_can_list(seller=seller) is True


def test_at_the_restriction_threshold_the_seller_cannot_list(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ready_seller()

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 24)

    seller.refresh_from_db()
    assert seller_can_list(seller=seller) is False
    assert seller.status == SellerStatus.APPROVED
    assert "can no longer list products" in mailoutbox[0].subject


def test_the_restriction_lifts_by_itself_when_points_expire():
    seller = ready_seller()
    record_violation(seller, 24, occurred_at=timezone.now() - timedelta(days=91))

    assert seller_can_list(seller=seller) is True


def test_at_the_suspension_threshold_an_approved_seller_is_suspended(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ApprovedSellerFactory()
    staff = StaffUserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 30, recorded_by=staff)
        record_violation(seller, 18, recorded_by=staff)  # 48

    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED
    assert "48 active violation points" in seller.status_message
    event = SellerStatusEvent.objects.get(seller=seller, to_status=SellerStatus.SUSPENDED)
    assert event.actor == staff
    assert "suspended" in mailoutbox[-1].subject


def test_a_seller_that_is_not_approved_is_not_suspended():
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    record_violation(seller, 50)

    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED


def test_an_unapproved_seller_already_restricted_is_not_emailed_again_at_the_suspension_line(
    mailoutbox, django_capture_on_commit_callbacks
):
    EnforcementSettings.objects.update_or_create(
        pk=1, defaults={"warn_points": 2, "restrict_listing_points": 4, "suspend_points": 8}
    )
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 5)  # crosses warn and restrict: one "restrict" email
    assert len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 5)  # 10: past the suspension line, but it cannot be suspended

    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED
    assert len(mailoutbox) == 1


def test_an_unapproved_seller_crossing_restriction_and_suspension_at_once_hears_of_the_restriction(
    mailoutbox, django_capture_on_commit_callbacks
):
    EnforcementSettings.objects.update_or_create(
        pk=1, defaults={"warn_points": 2, "restrict_listing_points": 4, "suspend_points": 8}
    )
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 9)

    [email] = mailoutbox
    assert "can no longer list" in email.subject


def test_thresholds_come_from_the_enforcement_settings(
    mailoutbox, django_capture_on_commit_callbacks
):
    EnforcementSettings.objects.update_or_create(
        pk=1, defaults={"warn_points": 2, "restrict_listing_points": 3, "suspend_points": 5}
    )
    seller = ready_seller()

    with django_capture_on_commit_callbacks(execute=True):
        record_violation(seller, 2)
    assert "Warning" in mailoutbox[-1].subject
    assert seller_can_list(seller=seller) is True

    record_violation(seller, 1)
    assert seller_can_list(seller=seller) is False

    record_violation(seller, 2)
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED


@pytest.mark.parametrize(
    ("kind", "points", "reason"),
    [
        ("nonsense", 3, "x"),
        (Violation.Kind.OTHER, 0, "x"),
        (Violation.Kind.OTHER, 101, "x"),
        (Violation.Kind.OTHER, 3, "  "),
    ],
)
def test_an_invalid_violation_is_refused_and_nothing_is_written(kind, points, reason):
    seller = ApprovedSellerFactory()

    with pytest.raises(InvalidViolation):
        violation_record(seller_id=seller.pk, kind=kind, points=points, reason=reason)
    assert not Violation.objects.exists()


# --- Admin ------------------------------------------------------------------------------------


def test_staff_record_a_violation_in_admin_through_the_service(client):
    seller = ApprovedSellerFactory()
    staff = StaffUserFactory()
    client.force_login(staff)
    now = timezone.localtime()

    response = client.post(
        reverse("admin:sellers_violation_add"),
        {
            "seller": seller.pk,
            "kind": Violation.Kind.MISLEADING_LISTING,
            "points": 6,
            "reason": "Photos of another product.",
            "occurred_at_0": now.strftime("%Y-%m-%d"),
            "occurred_at_1": now.strftime("%H:%M:%S"),
        },
        follow=True,
    )

    violation = Violation.objects.get()
    assert violation.recorded_by == staff
    assert violation.expires_at > violation.occurred_at + timedelta(days=89)
    assert "Recorded 6 points" in response.content.decode()


def test_admin_refuses_a_violation_in_the_future(client):
    seller = ApprovedSellerFactory()
    client.force_login(StaffUserFactory())
    later = timezone.localtime() + timedelta(days=2)

    response = client.post(
        reverse("admin:sellers_violation_add"),
        {
            "seller": seller.pk,
            "kind": Violation.Kind.OTHER,
            "points": 3,
            "reason": "x",
            "occurred_at_0": later.strftime("%Y-%m-%d"),
            "occurred_at_1": later.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 200
    assert "cannot happen in the future" in response.content.decode()
    assert not Violation.objects.exists()


def test_admin_filters_active_and_expired_violations(client):
    seller = ApprovedSellerFactory()
    record_violation(seller, 3, reason="Recent one")
    record_violation(seller, 3, reason="Old one", occurred_at=timezone.now() - timedelta(days=120))
    client.force_login(StaffUserFactory())

    active = client.get(reverse("admin:sellers_violation_changelist") + "?points=active")
    expired = client.get(reverse("admin:sellers_violation_changelist") + "?points=expired")

    assert active.context["cl"].result_count == 1
    assert expired.context["cl"].result_count == 1


@pytest.mark.parametrize(
    "model",
    ["sellermember", "sellerinvitation", "shopaddress", "shippingtemplate", "payoutaccount"],
)
def test_the_set_up_records_have_admin_pages(client, model):
    client.force_login(StaffUserFactory())

    assert client.get(reverse(f"admin:sellers_{model}_changelist")).status_code == 200
