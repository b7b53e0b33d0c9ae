import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from sellers.models import SellerPolicyAcceptance, SellerStatus, SellerStatusEvent
from tests.accounts.factories import UserFactory
from tests.policies.factories import PolicyVersionFactory
from tests.sellers.factories import (
    PDF_BYTES,
    ApprovedSellerFactory,
    KycDocumentFactory,
    SellerFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:sellers_seller_changelist")


def change_url(seller):
    return reverse("admin:sellers_seller_change", args=[seller.pk])


def decide_url(seller, decision):
    return reverse("admin:sellers_seller_decide", args=[seller.pk, decision])


def flashed(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- the list ------------------------------------------------------------------------------


def test_the_list_links_to_the_review_queue_with_its_size(staff_client):
    SellerFactory.create_batch(2, status=SellerStatus.SUBMITTED)
    SellerFactory(status=SellerStatus.DRAFT)

    html = staff_client.get(CHANGELIST).content.decode()

    assert "Review queue (2)" in html
    assert "?status__exact=submitted" in html


def test_the_review_queue_lists_only_submitted_applications(staff_client):
    waiting = SellerFactory(status=SellerStatus.SUBMITTED, shop_name="Waiting Shop")
    SellerFactory(status=SellerStatus.DRAFT, shop_name="Draft Shop")

    response = staff_client.get(CHANGELIST + "?status__exact=submitted")

    assert list(response.context["cl"].result_list) == [waiting]


def test_the_list_can_be_searched_by_owner_email(staff_client):
    seller = SellerFactory()
    SellerFactory()

    response = staff_client.get(CHANGELIST, {"q": seller.owner.email})

    assert list(response.context["cl"].result_list) == [seller]


def test_sellers_cannot_be_added_or_deleted_in_the_admin(staff_client):
    seller = SellerFactory()

    assert staff_client.get(reverse("admin:sellers_seller_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:sellers_seller_delete", args=[seller.pk])).status_code
        == 403
    )


# --- the change page -----------------------------------------------------------------------


def test_the_change_page_shows_only_the_decisions_legal_now(staff_client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    html = staff_client.get(change_url(seller)).content.decode()

    for decision in ("approve", "reject", "request_info"):
        assert decide_url(seller, decision) in html
    for decision in ("suspend", "reinstate", "close"):
        assert decide_url(seller, decision) not in html


def test_an_approved_shop_can_be_suspended_or_closed_but_not_approved_again(staff_client):
    seller = ApprovedSellerFactory()

    html = staff_client.get(change_url(seller)).content.decode()

    assert decide_url(seller, "suspend") in html
    assert decide_url(seller, "close") in html
    assert decide_url(seller, "approve") not in html
    assert decide_url(seller, "reinstate") not in html


def test_the_status_is_read_only_in_the_form(staff_client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    response = staff_client.get(change_url(seller))

    assert "status" not in response.context["adminform"].form.fields
    assert 'name="status"' not in response.content.decode()


def test_the_change_page_shows_documents_history_and_policy_acceptances(staff_client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    document = KycDocumentFactory(seller=seller, original_name="passport-scan.pdf")
    SellerStatusEvent.objects.create(
        seller=seller, from_status="draft", to_status="submitted", actor=seller.owner
    )
    version = PolicyVersionFactory()
    SellerPolicyAcceptance.objects.create(
        seller=seller, policy_version=version, accepted_by=seller.owner, ip_address="203.0.113.9"
    )

    html = staff_client.get(change_url(seller)).content.decode()

    assert reverse("admin:sellers_seller_kyc_download", args=[document.pk]) in html
    assert "passport-scan.pdf" in html
    assert "203.0.113.9" in html
    assert str(version) in html
    assert "Submitted for review" in html


# --- decisions -----------------------------------------------------------------------------


def test_staff_approve_an_application_and_the_owner_is_emailed(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    page = staff_client.get(decide_url(seller, "approve"))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(decide_url(seller, "approve"))

    assert page.status_code == 200
    assert response.status_code == 302
    assert response.url == change_url(seller)
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED
    assert [email.to for email in mailoutbox] == [[seller.owner.email]]
    assert any("is now approved" in message for message in flashed(response))


def test_rejecting_without_a_reason_shows_an_error_and_changes_nothing(staff_client, mailoutbox):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    response = staff_client.post(decide_url(seller, "reject"), {"message": "   "})

    assert response.status_code == 200
    assert response.context["form"].errors["message"]
    assert "errorlist" in response.content.decode()
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED
    assert not SellerStatusEvent.objects.exists()
    assert mailoutbox == []


def test_rejecting_with_a_reason_tells_the_owner_why(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(decide_url(seller, "reject"), {"message": "The ID has expired."})

    seller.refresh_from_db()
    assert seller.status == SellerStatus.REJECTED
    assert seller.status_message == "The ID has expired."
    assert "The ID has expired." in mailoutbox[0].body


def test_requesting_information_sends_the_application_back(
    staff_client, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(decide_url(seller, "request_info"), {"message": "Upload the back side."})

    seller.refresh_from_db()
    assert seller.status == SellerStatus.NEEDS_INFO
    assert "Upload the back side." in mailoutbox[0].body


def test_suspending_needs_a_reason_and_reinstating_does_not(staff_client):
    seller = ApprovedSellerFactory()

    refused = staff_client.post(decide_url(seller, "suspend"), {"message": ""})
    seller.refresh_from_db()
    assert refused.status_code == 200
    assert seller.status == SellerStatus.APPROVED

    staff_client.post(decide_url(seller, "suspend"), {"message": "Counterfeit listings."})
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUSPENDED

    staff_client.post(decide_url(seller, "reinstate"))
    seller.refresh_from_db()
    assert seller.status == SellerStatus.APPROVED


def test_an_illegal_decision_page_is_refused_with_a_message(staff_client):
    seller = SellerFactory(status=SellerStatus.DRAFT)

    response = staff_client.post(decide_url(seller, "approve"))

    assert response.status_code == 302
    assert any("not possible now" in message for message in flashed(response))
    seller.refresh_from_db()
    assert seller.status == SellerStatus.DRAFT
    assert not SellerStatusEvent.objects.exists()


def test_an_unknown_decision_answers_404(staff_client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)

    assert staff_client.get(decide_url(seller, "promote")).status_code == 404


def test_a_shopper_cannot_reach_a_decision_page(client):
    seller = SellerFactory(status=SellerStatus.SUBMITTED)
    client.force_login(UserFactory())

    response = client.post(decide_url(seller, "approve"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
    seller.refresh_from_db()
    assert seller.status == SellerStatus.SUBMITTED


# --- the bulk action -----------------------------------------------------------------------


def test_approve_selected_approves_what_it_can_and_names_what_it_cannot(staff_client):
    first = SellerFactory(status=SellerStatus.SUBMITTED, shop_name="First")
    second = SellerFactory(status=SellerStatus.SUBMITTED, shop_name="Second")
    draft = SellerFactory(status=SellerStatus.DRAFT, shop_name="Still Drafting")

    response = staff_client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [first.pk, second.pk, draft.pk]},
        follow=True,
    )

    for seller in (first, second, draft):
        seller.refresh_from_db()
    assert (first.status, second.status, draft.status) == (
        SellerStatus.APPROVED,
        SellerStatus.APPROVED,
        SellerStatus.DRAFT,
    )
    messages = flashed(response)
    assert any("Approved 2 sellers: First, Second." in message for message in messages)
    assert any(
        message.startswith("Not approved: Still Drafting:") and "cannot be approved" in message
        for message in messages
    )


# --- KYC downloads -------------------------------------------------------------------------


def kyc_download_url(document):
    return reverse("admin:sellers_seller_kyc_download", args=[document.pk])


def test_staff_download_a_kyc_document_from_the_admin(staff_client):
    document = KycDocumentFactory(seller=SellerFactory(), original_name="passport.pdf")

    response = staff_client.get(kyc_download_url(document))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == PDF_BYTES


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_admin_download_sends_anyone_but_staff_to_the_admin_login(client, signed_in):
    document = KycDocumentFactory(seller=SellerFactory())
    if signed_in:
        client.force_login(document.seller.owner)

    response = client.get(kyc_download_url(document))

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_an_unknown_document_answers_404_in_the_admin(staff_client):
    assert (
        staff_client.get(reverse("admin:sellers_seller_kyc_download", args=[999999])).status_code
        == 404
    )
