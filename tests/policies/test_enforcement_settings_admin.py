"""The enforcement thresholds staff edit in admin are the row the services read."""

import pytest
from django.urls import reverse

from policies.models import EnforcementSettings

pytestmark = pytest.mark.django_db


def test_with_no_row_yet_admin_opens_the_row_the_services_read_instead_of_adding_another(
    admin_client,
):
    assert not EnforcementSettings.objects.exists()

    changelist = admin_client.get(reverse("admin:policies_enforcementsettings_changelist"))
    add = admin_client.get(reverse("admin:policies_enforcementsettings_add"))

    current = EnforcementSettings.current()
    assert changelist.status_code == 302
    assert changelist.url == reverse("admin:policies_enforcementsettings_change", args=[current.pk])
    assert add.status_code == 403
    assert EnforcementSettings.objects.count() == 1


def test_thresholds_saved_in_admin_are_the_ones_in_force(admin_client):
    row = EnforcementSettings.current()

    admin_client.post(
        reverse("admin:policies_enforcementsettings_change", args=[row.pk]),
        {
            "warn_points": 5,
            "restrict_listing_points": 10,
            "suspend_points": 20,
            "points_expire_after_days": 30,
        },
    )

    assert EnforcementSettings.current().suspend_points == 20
