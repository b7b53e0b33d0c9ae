import io

import pytest
from django.core.management import call_command

from sellers.models import Seller, SellerStatus
from sellers.prerequisites import seller_can_list

pytestmark = pytest.mark.django_db


def seed():
    call_command("seed_demo", stdout=io.StringIO())


def test_the_demo_has_open_shops_ready_to_list_one_pending_application_and_one_suspended_shop():
    seed()

    open_shops = Seller.objects.filter(status=SellerStatus.APPROVED)
    assert open_shops.count() >= 4
    assert all(seller_can_list(seller=seller) for seller in open_shops)
    assert Seller.objects.filter(status=SellerStatus.SUBMITTED).count() == 1
    suspended = Seller.objects.get(status=SellerStatus.SUSPENDED)
    assert suspended.violations.count() == 2
    assert suspended.status_events.filter(to_status=SellerStatus.SUSPENDED).exists()


def test_seeding_twice_adds_no_seller():
    seed()
    count = Seller.objects.count()

    seed()

    assert Seller.objects.count() == count
