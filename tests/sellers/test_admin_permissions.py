"""Platform staff in admin: what a staff account without the right permission cannot do, and the
seller page's query budget. Regressions from the issue 3 review."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sellers.admin.application import SellerAdmin
from sellers.models import Seller, SellerPolicyAcceptance, SellerStatus, SellerStatusEvent
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.policies.factories import PolicyVersionFactory
from tests.sellers.factories import KycDocumentFactory, SellerFactory

pytestmark = pytest.mark.django_db


def staff_with(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def kyc_download(document):
    return reverse("seller_center:kyc_document_download", args=[document.pk])


def admin_kyc_download(document):
    return reverse("admin:sellers_seller_kyc_download", args=[document.pk])


# --- approving needs the change permission -------------------------------------------------


def test_staff_who_may_only_view_sellers_cannot_approve_with_the_bulk_action(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(staff_with("view_seller"))

    changelist = client.get(reverse("admin:sellers_seller_changelist"))
    client.post(
        reverse("admin:sellers_seller_changelist"),
        {"action": "approve_selected", "_selected_action": [seller.pk]},
    )

    assert "approve_selected" not in changelist.content.decode()
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED
    assert not SellerStatusEvent.objects.filter(seller=seller).exists()


def test_staff_who_may_change_sellers_approve_with_the_bulk_action(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(staff_with("view_seller", "change_seller"))

    client.post(
        reverse("admin:sellers_seller_changelist"),
        {"action": "approve_selected", "_selected_action": [seller.pk]},
    )

    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED


# --- identity documents need the KYC permission --------------------------------------------


def test_staff_without_the_kyc_permission_cannot_download_identity_documents(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(staff_with("view_seller"))

    assert client.get(kyc_download(document)).status_code == 404
    assert client.get(admin_kyc_download(document)).status_code == 403


def test_staff_without_the_kyc_permission_do_not_see_the_documents_in_admin(client):
    seller = SellerFactory()
    KycDocumentFactory(seller=seller, original_name="passport-of-ann.pdf")
    client.force_login(staff_with("view_seller"))

    page = client.get(reverse("admin:sellers_seller_change", args=[seller.pk]))

    assert page.status_code == 200
    assert "passport-of-ann.pdf" not in page.content.decode()


def test_staff_with_the_kyc_permission_download_any_identity_document(client):
    document = KycDocumentFactory(seller=SellerFactory())
    client.force_login(staff_with("view_seller", "view_kycdocument"))

    assert client.get(kyc_download(document)).status_code == 200
    assert client.get(admin_kyc_download(document)).status_code == 200


def test_staff_without_the_permission_still_download_their_own_shops_documents(client):
    seller = SellerFactory(owner=UserFactory(is_staff=True))
    document = KycDocumentFactory(seller=seller)
    client.force_login(seller.owner)

    assert client.get(kyc_download(document)).status_code == 200


# --- the seller page -----------------------------------------------------------------------


def test_the_admin_seller_page_needs_the_same_queries_however_long_its_history(client):
    seller = SellerFactory()
    client.force_login(StaffUserFactory())
    url = reverse("admin:sellers_seller_change", args=[seller.pk])

    def add_history():
        KycDocumentFactory(seller=seller, uploaded_by=UserFactory())
        SellerStatusEvent.objects.create(
            seller=seller, from_status="draft", to_status="submitted", actor=UserFactory()
        )
        SellerPolicyAcceptance.objects.create(
            seller=seller, policy_version=PolicyVersionFactory(), accepted_by=UserFactory()
        )

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add_history()
    few = count_queries()
    for _ in range(6):
        add_history()
    many = count_queries()

    assert many == few


def test_editing_a_sellers_details_in_admin_never_writes_back_a_stale_status(client):
    seller = SellerFactory(status=SellerStatus.APPROVED, shop_name="Old Name")
    client.force_login(StaffUserFactory())
    url = reverse("admin:sellers_seller_change", args=[seller.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "shop_name": "New Name",
            "main_category": seller.main_category_id,
            **{
                f"{prefix}-{suffix}": value
                for prefix in ("kyc_documents", "policy_acceptances", "status_events")
                for suffix, value in (
                    ("TOTAL_FORMS", 0),
                    ("INITIAL_FORMS", 0),
                    ("MIN_NUM_FORMS", 0),
                    ("MAX_NUM_FORMS", 1000),
                )
            },
        }
    )
    original_save_form = SellerAdmin.save_form

    def suspend_meanwhile(self, request, form, change):
        # What an automatic suspension committing mid-request looks like to this request.
        Seller.objects.filter(pk=seller.pk).update(status=SellerStatus.SUSPENDED)
        return original_save_form(self, request, form, change)

    with mock.patch.object(SellerAdmin, "save_form", suspend_meanwhile):
        response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    seller.refresh_from_db()
    assert seller.shop_name == "New Name"
    assert seller.status == SellerStatus.SUSPENDED
