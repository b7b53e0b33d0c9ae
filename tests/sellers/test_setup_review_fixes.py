"""Seller Center set-up, qualifications, violations and staff: behaviours pinned by the issue 3
review (money typed with a decimal comma, expired documents, threshold emails, locks, 400s)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from policies.models import EnforcementSettings, PolicyStatus
from sellers.forms.setup import QualificationForm, ShippingTemplateForm
from sellers.models import (
    Qualification,
    Seller,
    SellerInvitation,
    SellerRole,
    SellerStatus,
    Violation,
)
from sellers.services import staff as staff_services
from sellers.services.qualifications import (
    MAX_PENDING_QUALIFICATIONS,
    QualificationRefused,
    qualification_submit,
)
from sellers.services.violations import violation_record
from tests.accounts.factories import UserFactory
from tests.policies.factories import CategoryFactory
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory
from tests.sellers.factories_seller_center import QualificationFactory, pdf_upload
from tests.sellers.test_application_views import form_data

pytestmark = pytest.mark.django_db

needs_row_locks = pytest.mark.skipif(
    "not connection.features.has_select_for_update",
    reason="SQLite has no row locks; the lock is checked on PostgreSQL.",
)


def shipping_form(flat_fee, currency="USD"):
    return ShippingTemplateForm(
        {"flat_fee": flat_fee, "free_shipping_threshold": "", "processing_days": "2"},
        currency=currency,
    )


# --- money typed by people ---------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["4,99", "1,25", "1,2,3", ",5", "12,5000"])
def test_a_decimal_comma_is_refused_instead_of_read_as_thousands(typed):
    form = shipping_form(typed)

    assert not form.is_valid()
    assert "Use a dot for decimals" in " ".join(form.errors["flat_fee"])


@pytest.mark.parametrize(
    ("typed", "minor"), [("1,000", 100000), ("1,000.00", 100000), ("999.50", 99950)]
)
def test_commas_between_thousands_still_work(typed, minor):
    form = shipping_form(typed)

    assert form.is_valid(), form.errors
    assert form.cleaned_data["flat_fee"] == minor


@pytest.mark.parametrize("typed", ["\u0661\u0662", "\uff11\uff12"])
def test_only_ascii_digits_make_an_amount(typed):
    assert not shipping_form(typed).is_valid()


def test_the_shipping_page_answers_400_with_the_reason_for_a_decimal_comma(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:shipping"),
        {"flat_fee": "4,99", "free_shipping_threshold": "", "processing_days": "2"},
    )

    assert response.status_code == 400
    assert "Use a dot for decimals" in response.content.decode()


# --- qualifications ------------------------------------------------------------------------


@pytest.fixture
def restricted():
    return CategoryFactory(name="Medicines", policy_status=PolicyStatus.RESTRICTED)


def test_a_qualification_that_has_already_expired_is_refused(settings, restricted):
    seller = ApprovedSellerFactory()

    with pytest.raises(QualificationRefused, match="already expired"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.CATEGORY,
            category=restricted,
            document=pdf_upload(),
            submitted_by=seller.owner,
            expires_on=timezone.localdate() - timedelta(days=1),
        )

    assert not Qualification.objects.exists()


def test_the_qualification_form_explains_an_expiry_date_in_the_past(restricted):
    form = QualificationForm(
        {
            "kind": Qualification.Kind.CATEGORY,
            "category": restricted.pk,
            "expires_on": (timezone.localdate() - timedelta(days=3)).isoformat(),
        },
        {"document": pdf_upload()},
    )

    assert not form.is_valid()
    assert "has passed" in form.errors["expires_on"][0]


def test_a_seller_can_have_only_so_many_qualifications_waiting(settings):
    seller = ApprovedSellerFactory()
    for number in range(MAX_PENDING_QUALIFICATIONS):
        QualificationFactory(seller=seller, brand_name=f"Brand {number}")

    with pytest.raises(QualificationRefused, match="already waiting"):
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.BRAND,
            brand_name="One More",
            document=pdf_upload(),
            submitted_by=seller.owner,
        )

    assert Qualification.objects.filter(seller=seller).count() == MAX_PENDING_QUALIFICATIONS


@needs_row_locks
def test_submitting_a_qualification_locks_the_seller_before_checking_for_duplicates():
    seller = ApprovedSellerFactory()

    with CaptureQueriesContext(connection) as queries:
        qualification_submit(
            seller=seller,
            kind=Qualification.Kind.BRAND,
            brand_name="Acme",
            document=pdf_upload(),
            submitted_by=seller.owner,
        )

    statements = [query["sql"] for query in queries.captured_queries]
    lock = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    check = next(i for i, sql in enumerate(statements) if "sellers_qualification" in sql)
    assert 'FROM "sellers_seller"' in statements[lock]
    assert lock < check


# --- violations ----------------------------------------------------------------------------


def record(seller, points):
    return violation_record(
        seller_id=seller.pk, kind=Violation.Kind.LATE_SHIPMENT, points=points, reason="Late."
    )


def test_an_unapproved_seller_already_restricted_is_not_emailed_again_at_the_suspension_line(
    mailoutbox, django_capture_on_commit_callbacks
):
    EnforcementSettings.objects.update_or_create(
        pk=1, defaults={"warn_points": 2, "restrict_listing_points": 4, "suspend_points": 8}
    )
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):
        record(seller, 5)  # crosses warn and restrict: one "restrict" email
    assert len(mailoutbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        record(seller, 5)  # 10: past the suspension line, but it cannot be suspended

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
        record(seller, 9)

    [email] = mailoutbox
    assert "can no longer list" in email.subject


# --- staff invitations ---------------------------------------------------------------------


@needs_row_locks
def test_accepting_an_invitation_locks_the_person_before_the_one_shop_check():
    seller = ApprovedSellerFactory()
    invitee = UserFactory()
    _, token = staff_services.seller_invitation_create(
        seller=seller, email=invitee.email, role=SellerRole.FINANCE, invited_by=seller.owner
    )

    with CaptureQueriesContext(connection) as queries:
        staff_services.seller_invitation_accept(raw_token=token, user=invitee)

    statements = [query["sql"] for query in queries.captured_queries]
    user_lock = next(
        i for i, sql in enumerate(statements) if "FOR UPDATE" in sql and "accounts_user" in sql
    )
    membership_check = next(
        i
        for i, sql in enumerate(statements)
        if "sellers_sellermember" in sql and sql.lstrip().startswith("SELECT")
    )
    assert user_lock < membership_check
    assert SellerInvitation.objects.get(seller=seller).accepted_at is not None


# --- bad input answers 4xx ------------------------------------------------------------------


def test_an_invalid_profile_answers_400(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:settings"),
        {"description": "x", "message_hours_start": "25:99", "message_hours_end": "nope"},
    )

    assert response.status_code == 400
    assert 'id="id_message_hours_start_error"' in response.content.decode()


def test_an_invalid_application_answers_400(client):
    client.force_login(UserFactory())

    response = client.post(reverse("seller_center:apply"), {"kind": "bogus", "slug": "../.."})

    assert response.status_code == 400
    assert response.context["form"].errors["slug"]


def test_a_post_only_page_refuses_get_with_405(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    for name in ("application_submit", "kyc_document_upload", "policies_accept", "staff_invite"):
        assert client.get(reverse(f"seller_center:{name}")).status_code == 405


def test_an_overlong_shop_description_is_refused_on_the_application(client):
    client.force_login(UserFactory())

    response = client.post(reverse("seller_center:apply"), form_data(description="x" * 2001))

    assert response.status_code == 400
    assert "under 2,000 characters" in " ".join(response.context["form"].errors["description"])
    assert not Seller.objects.exists()


def test_only_the_owner_can_start_payout_onboarding(client):
    from sellers.models import PayoutAccount, SellerRole
    from tests.sellers.factories import SellerMemberFactory

    member = SellerMemberFactory(role=SellerRole.ADMIN)
    client.force_login(member.user)

    page = client.get(reverse("seller_center:payouts")).content.decode()
    response = client.post(reverse("seller_center:payout_connect"), follow=True)

    assert "Only the shop's owner can connect" in page
    assert "Connect payout account</button>" not in page
    assert "Only the shop&#x27;s owner can connect" in response.content.decode()
    assert not PayoutAccount.objects.exists()
