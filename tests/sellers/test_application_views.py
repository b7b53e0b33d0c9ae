import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sellers.models import Seller, SellerMember, SellerRole, SellerStatus, SellerStatusEvent
from tests.accounts.factories import UserFactory
from tests.policies.factories import CategoryFactory, PolicyDocumentFactory, PolicyVersionFactory
from tests.sellers.factories import (
    ApprovedSellerFactory,
    KycDocumentFactory,
    SellerFactory,
    SellerMemberFactory,
    complete_application,
    form_data,
)

pytestmark = pytest.mark.django_db

APPLY = reverse("seller_center:apply")
APPLICATION = reverse("seller_center:application")
SUBMIT = reverse("seller_center:application_submit")


# --- apply ---------------------------------------------------------------------------------


def test_a_visitor_is_asked_to_sign_in_before_applying(client):
    response = client.get(APPLY)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_signed_in_user_without_a_shop_sees_the_application_form(client):
    client.force_login(UserFactory())

    response = client.get(APPLY)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Apply to sell on" in html
    assert 'name="shop_name"' in html and 'name="slug"' in html


def test_the_seller_center_sends_a_user_without_a_shop_to_the_application(client):
    client.force_login(UserFactory())

    response = client.get(reverse("seller_center:dashboard"))

    assert response.status_code == 302
    assert response.url == APPLY


def test_applying_creates_a_draft_and_opens_the_application_page(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(APPLY, form_data(), follow=True)

    seller = Seller.objects.get(owner=user)
    assert seller.status == SellerStatus.DRAFT
    assert SellerMember.objects.get(seller=seller).role == SellerRole.OWNER
    assert response.redirect_chain[-1][0] == APPLICATION
    assert "is saved as a draft" in response.content.decode()


def test_the_main_category_offers_only_top_level_categories(client):
    top = CategoryFactory(name="Home and garden")
    child = CategoryFactory(name="Garden tools", parent=top)
    client.force_login(UserFactory())

    form = client.get(APPLY).context["form"]

    choices = list(form.fields["main_category"].queryset)
    assert top in choices
    assert child not in choices


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"slug": "Green Leaf!"}, "slug", "lowercase letters"),
        ({"slug": "ab"}, "slug", "at least 3"),
        ({"kind": "business", "tax_id": ""}, "tax_id", "tax ID"),
        ({"contact_email": "nope"}, "contact_email", "email"),
        ({"shop_name": ""}, "shop_name", "required"),
    ],
)
def test_a_wrong_field_is_explained_next_to_it_and_nothing_is_saved(
    client, overrides, field, words
):
    user = UserFactory()
    client.force_login(user)

    response = client.post(APPLY, form_data(**overrides))

    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors[field])
    assert words.lower() in errors.lower()
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Seller.objects.filter(owner=user).exists()


def test_a_taken_shop_address_is_explained_next_to_the_field(client):
    SellerFactory(slug="green-leaf-tea")
    user = UserFactory()
    client.force_login(user)

    response = client.post(APPLY, form_data())

    assert response.context["form"].errors["slug"] == [
        "That shop address is taken. Choose another one."
    ]
    assert not Seller.objects.filter(owner=user).exists()


def test_an_invalid_application_answers_400(client):
    client.force_login(UserFactory())

    response = client.post(reverse("seller_center:apply"), {"kind": "bogus", "slug": "../.."})

    assert response.status_code == 400
    assert response.context["form"].errors["slug"]


def test_an_overlong_shop_description_is_refused_on_the_application(client):
    client.force_login(UserFactory())

    response = client.post(reverse("seller_center:apply"), form_data(description="x" * 2001))

    assert response.status_code == 400
    assert "under 2,000 characters" in " ".join(response.context["form"].errors["description"])
    assert not Seller.objects.exists()


@pytest.mark.parametrize("status", [SellerStatus.DRAFT, SellerStatus.NEEDS_INFO])
def test_the_owner_edits_an_editable_application(client, status):
    seller = SellerFactory(status=status, slug="old-address")
    client.force_login(seller.owner)

    page = client.get(APPLY)
    response = client.post(APPLY, form_data(slug="new-address", shop_name="New name"), follow=True)

    assert page.context["form"].initial["slug"] == "old-address"
    seller.refresh_from_db()
    assert (seller.slug, seller.shop_name, seller.status) == ("new-address", "New name", status)
    assert "Your application details are saved." in response.content.decode()


def test_the_request_for_information_is_shown_above_the_form(client):
    seller = SellerFactory(
        status=SellerStatus.NEEDS_INFO, status_message="Your address is cut off."
    )
    client.force_login(seller.owner)

    assert "Your address is cut off." in client.get(APPLY).content.decode()


@pytest.mark.parametrize(
    "status", [SellerStatus.SUBMITTED, SellerStatus.APPROVED, SellerStatus.REJECTED]
)
def test_the_owner_of_a_submitted_or_decided_application_is_sent_to_its_status(client, status):
    seller = SellerFactory(status=status, shop_name="Unchanged")
    client.force_login(seller.owner)

    response = client.post(APPLY, form_data(shop_name="Changed"))

    assert response.status_code == 302
    assert response.url == APPLICATION
    seller.refresh_from_db()
    assert seller.shop_name == "Unchanged"


def test_staff_of_a_seller_who_may_see_settings_are_sent_to_the_application(client):
    member = SellerMemberFactory(role=SellerRole.ADMIN)
    client.force_login(member.user)

    response = client.post(APPLY, form_data())

    assert response.url == APPLICATION
    assert Seller.objects.count() == 1


def test_staff_of_a_seller_without_settings_are_sent_to_the_dashboard(client):
    member = SellerMemberFactory(role=SellerRole.ORDER_MANAGER)
    client.force_login(member.user)

    response = client.get(APPLY)

    assert response.url == reverse("seller_center:dashboard")


def test_the_owner_of_a_closed_shop_cannot_apply_again(client):
    seller = SellerFactory(status=SellerStatus.CLOSED, status_message="Repeated fraud.")
    client.force_login(seller.owner)

    get = client.get(APPLY)
    client.post(APPLY, form_data())

    assert "Your seller account is closed" in get.content.decode()
    assert "Repeated fraud." in get.content.decode()
    assert Seller.objects.count() == 1


# --- the application page ------------------------------------------------------------------


def test_the_application_page_shows_the_checklist_and_the_outstanding_policies(client):
    seller = SellerFactory()
    PolicyVersionFactory(
        document=PolicyDocumentFactory(title="Returns and refunds policy"), number=2
    )
    client.force_login(seller.owner)

    response = client.get(APPLICATION)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Before you submit" in html
    assert "Upload at least one document" in html
    assert "Returns and refunds policy" in html
    assert 'href="/seller/policies/"' in html
    assert "Submit application" in html
    assert [item.key for item in response.context["checklist"] if not item.done] == [
        "documents",
        "policies",
    ]


def test_the_application_page_lists_the_status_history(client):
    seller = SellerFactory(
        status=SellerStatus.NEEDS_INFO, status_message="Upload the back side too."
    )
    SellerStatusEvent.objects.create(
        seller=seller, from_status="draft", to_status="submitted", actor=seller.owner
    )
    SellerStatusEvent.objects.create(
        seller=seller,
        from_status="submitted",
        to_status="needs_info",
        message="Upload the back side too.",
    )
    client.force_login(seller.owner)

    html = client.get(APPLICATION).content.decode()

    assert "History" in html
    assert "Application started" in html
    assert "Submitted for review" in html
    assert "What the marketplace team needs from you" in html
    assert html.count("Upload the back side too.") == 2  # the alert and the timeline


@pytest.mark.parametrize("status", [SellerStatus.REJECTED, SellerStatus.SUSPENDED])
def test_the_reason_for_a_rejection_or_suspension_is_shown_prominently(client, status):
    seller = SellerFactory(status=status, status_message="Counterfeit goods.")
    client.force_login(seller.owner)

    response = client.get(APPLICATION)

    assert response.context["shows_staff_message"]
    assert "Reason from the marketplace team" in response.content.decode()
    assert "Submit application" not in response.content.decode()


def test_a_member_with_the_settings_section_sees_the_application_but_cannot_change_it(client):
    seller = SellerFactory()
    client.force_login(SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user)

    response = client.get(APPLICATION)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Only the shop's owner can change and submit the application." in html
    assert "Upload document" not in html


@pytest.mark.parametrize(
    "role", [SellerRole.PRODUCT_MANAGER, SellerRole.ORDER_MANAGER, SellerRole.FINANCE]
)
def test_a_member_without_the_settings_section_gets_404(client, role):
    seller = SellerFactory()
    client.force_login(SellerMemberFactory(seller=seller, role=role).user)

    assert client.get(APPLICATION).status_code == 404
    assert client.post(SUBMIT).status_code == 404


def test_another_sellers_owner_sees_only_their_own_application(client):
    mine = SellerFactory(shop_name="Mine")
    theirs = SellerFactory(shop_name="Someone else's")
    KycDocumentFactory(seller=theirs, original_name="their-passport.pdf")
    client.force_login(mine.owner)

    html = client.get(APPLICATION).content.decode()

    assert "Mine" in html
    assert "Someone else" not in html
    assert "their-passport.pdf" not in html


# --- submitting ----------------------------------------------------------------------------


def test_submitting_an_incomplete_application_lists_what_is_missing(client):
    seller = SellerFactory()
    PolicyVersionFactory(document=PolicyDocumentFactory(title="Seller terms"), number=1)
    client.force_login(seller.owner)

    response = client.post(SUBMIT, follow=True)

    html = response.content.decode()
    assert "cannot be submitted yet" in html
    assert "Upload at least one document" in html
    assert "Accept the marketplace policies first: Seller terms (version 1)." in html
    seller.refresh_from_db()
    assert seller.status == SellerStatus.DRAFT
    assert not SellerStatusEvent.objects.exists()


def test_submitting_a_complete_application_confirms_it(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory()
    complete_application(seller)
    client.force_login(seller.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, follow=True)

    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED
    assert "Your application is submitted." in response.content.decode()
    assert len(mailoutbox) == 1


def test_submitting_twice_says_it_is_already_submitted(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(seller.owner)

    response = client.post(SUBMIT, follow=True)

    assert "can no longer be changed" in response.content.decode()
    assert not SellerStatusEvent.objects.exists()


def test_a_member_who_is_not_the_owner_cannot_submit(client):
    seller = SellerFactory()
    complete_application(seller)
    client.force_login(SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user)

    response = client.post(SUBMIT)

    assert response.status_code == 404
    seller.refresh_from_db()
    assert seller.status == SellerStatus.DRAFT


def test_submit_answers_only_post(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    assert client.get(SUBMIT).status_code == 405


def test_a_post_only_page_refuses_get_with_405(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    for name in ("application_submit", "kyc_document_upload", "policies_accept", "staff_invite"):
        assert client.get(reverse(f"seller_center:{name}")).status_code == 405


def test_an_approved_owner_still_sees_the_application_history(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.get(APPLICATION)

    assert response.status_code == 200
    assert "Your shop is approved" in response.content.decode()
    assert "Before you submit" not in response.content.decode()


def test_the_application_page_needs_the_same_queries_however_long_its_history(client):
    seller = SellerFactory()
    client.force_login(seller.owner)

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(APPLICATION).status_code == 200
        return len(queries)

    KycDocumentFactory(seller=seller)
    SellerStatusEvent.objects.create(seller=seller, from_status="draft", to_status="submitted")
    few = count_queries()
    KycDocumentFactory.create_batch(5, seller=seller)
    for _ in range(5):
        SellerStatusEvent.objects.create(seller=seller, from_status="draft", to_status="submitted")
    many = count_queries()

    assert many == few
