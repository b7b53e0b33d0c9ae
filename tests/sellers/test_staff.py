"""Staff: invitations by email with a hashed, expiring token; accepting with the invited address
(the person locked before the one-shop check);
roles changed and members removed by owners and admins only; one seller never reaches another's."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sellers.models import SellerInvitation, SellerMember, SellerRole, SellerStatus
from sellers.services import staff as staff_services
from sellers.services.setup import SellerRecordNotFound
from sellers.services.staff import (
    InvitationNotUsable,
    InvitationRefused,
    MemberChangeRefused,
    seller_invitation_accept,
    seller_invitation_create,
    seller_invitation_revoke,
    seller_member_change_role,
    seller_member_remove,
)
from tests.accounts.factories import UserFactory
from tests.markers import needs_postgres
from tests.sellers.factories import ApprovedSellerFactory, SellerFactory, SellerMemberFactory

pytestmark = pytest.mark.django_db


def invite(seller, email="new.hire@example.com", role=SellerRole.ORDER_MANAGER):
    return seller_invitation_create(
        seller=seller,
        email=email,
        role=role,
        invited_by=seller.owner,
        link_base="https://agora.test",
    )


# --- Invitations ------------------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_of_its_token_and_expires_in_seven_days(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ApprovedSellerFactory()

    with django_capture_on_commit_callbacks(execute=True):
        invitation, raw_token = invite(seller, email="  New.Hire@Example.com ")

    assert invitation.email == "new.hire@example.com"
    assert invitation.token_hash == hashlib.sha256(raw_token.encode()).hexdigest()
    assert raw_token not in invitation.token_hash
    assert abs(invitation.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    [email] = mailoutbox
    assert email.to == ["new.hire@example.com"]
    assert f"https://agora.test/seller/invitations/{raw_token}/" in email.body
    assert seller.shop_name in email.subject


def test_the_email_goes_out_only_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(ApprovedSellerFactory())

    assert mailoutbox == []
    assert len(callbacks) == 1


def test_nobody_can_be_invited_as_owner():
    with pytest.raises(InvitationRefused):
        invite(ApprovedSellerFactory(), role=SellerRole.OWNER)
    assert not SellerInvitation.objects.exists()


def test_a_member_cannot_be_invited_again():
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller)

    with pytest.raises(InvitationRefused, match="already a member"):
        invite(seller, email=member.user.email)
    assert not SellerInvitation.objects.exists()


def test_someone_working_for_another_seller_cannot_be_invited():
    other = SellerMemberFactory()

    with pytest.raises(InvitationRefused, match="another seller"):
        invite(ApprovedSellerFactory(), email=other.user.email)
    assert not SellerInvitation.objects.exists()


def test_a_second_pending_invitation_for_the_same_address_is_refused():
    seller = ApprovedSellerFactory()
    invite(seller)

    with pytest.raises(InvitationRefused, match="pending invitation"):
        invite(seller)
    assert SellerInvitation.objects.count() == 1


def test_accepting_makes_the_invited_user_a_member_in_the_role():
    seller = ApprovedSellerFactory()
    _, token = invite(seller, email="hire@example.com", role=SellerRole.FINANCE)
    user = UserFactory(email="hire@example.com")

    member = seller_invitation_accept(raw_token=token, user=user)

    assert (member.seller, member.user, member.role) == (seller, user, SellerRole.FINANCE)
    assert SellerInvitation.objects.get().accepted_at is not None


def test_accepting_with_another_address_is_refused_with_a_clear_message():
    _, token = invite(ApprovedSellerFactory(), email="hire@example.com")
    stranger = UserFactory(email="someone.else@example.com")

    with pytest.raises(InvitationNotUsable, match=r"sent to hire@example\.com"):
        seller_invitation_accept(raw_token=token, user=stranger)
    assert SellerMember.objects.filter(user=stranger).count() == 0
    assert SellerInvitation.objects.get().accepted_at is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accepted_at": timezone.now()}, "already been accepted"),
        ({"revoked_at": timezone.now()}, "withdrawn"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "expired"),
    ],
)
def test_only_a_pending_invitation_can_be_accepted(change, message):
    _, token = invite(ApprovedSellerFactory(), email="hire@example.com")
    SellerInvitation.objects.update(**change)
    user = UserFactory(email="hire@example.com")

    with pytest.raises(InvitationNotUsable, match=message):
        seller_invitation_accept(raw_token=token, user=user)
    assert not SellerMember.objects.filter(user=user).exists()


def test_an_unknown_token_is_refused():
    with pytest.raises(InvitationNotUsable, match="not valid"):
        seller_invitation_accept(raw_token="made-up", user=UserFactory())


def test_accepting_is_refused_to_someone_who_already_works_for_a_seller():
    _, token = invite(ApprovedSellerFactory(), email="busy@example.com")
    busy = SellerMemberFactory(user=UserFactory(email="busy@example.com"))

    with pytest.raises(InvitationNotUsable, match="already work for a seller"):
        seller_invitation_accept(raw_token=token, user=busy.user)
    assert list(SellerMember.objects.filter(user=busy.user)) == [busy]
    assert SellerInvitation.objects.get().accepted_at is None


@needs_postgres
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


def test_a_revoked_invitation_is_revoked_once():
    seller = ApprovedSellerFactory()
    invitation, _ = invite(seller)

    seller_invitation_revoke(seller=seller, invitation_id=invitation.pk, actor=seller.owner)

    invitation.refresh_from_db()
    revoked_at = invitation.revoked_at
    assert revoked_at is not None
    with pytest.raises(InvitationNotUsable):
        seller_invitation_revoke(seller=seller, invitation_id=invitation.pk, actor=seller.owner)
    invitation.refresh_from_db()
    assert invitation.revoked_at == revoked_at


# --- Roles and removal ------------------------------------------------------------------------


def test_a_members_role_can_change_but_not_the_owners():
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller, role=SellerRole.FINANCE)
    owner = seller.members.get(role=SellerRole.OWNER)

    seller_member_change_role(
        seller=seller, member_id=member.pk, role=SellerRole.ADMIN, actor=seller.owner
    )

    member.refresh_from_db()
    assert member.role == SellerRole.ADMIN
    with pytest.raises(MemberChangeRefused):
        seller_member_change_role(
            seller=seller, member_id=owner.pk, role=SellerRole.ADMIN, actor=seller.owner
        )
    with pytest.raises(MemberChangeRefused):
        seller_member_change_role(
            seller=seller, member_id=member.pk, role=SellerRole.OWNER, actor=seller.owner
        )
    owner.refresh_from_db()
    member.refresh_from_db()
    assert owner.role == SellerRole.OWNER
    assert member.role == SellerRole.ADMIN


def test_removing_a_member_emails_them_and_the_owner_cannot_be_removed(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller)

    with django_capture_on_commit_callbacks(execute=True):
        seller_member_remove(seller=seller, member_id=member.pk, actor=seller.owner)

    assert not SellerMember.objects.filter(pk=member.pk).exists()
    assert mailoutbox[0].to == [member.user.email]
    owner = seller.members.get(role=SellerRole.OWNER)
    with pytest.raises(MemberChangeRefused):
        seller_member_remove(seller=seller, member_id=owner.pk, actor=seller.owner)
    assert SellerMember.objects.filter(pk=owner.pk).exists()


# --- The pages --------------------------------------------------------------------------------


def test_the_staff_page_lists_members_and_pending_invitations(client):
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller)
    invite(seller, email="pending@example.com")
    client.force_login(seller.owner)

    html = client.get(reverse("seller_center:staff")).content.decode()

    assert member.user.email in html
    assert seller.owner.email in html
    assert "pending@example.com" in html


def test_inviting_from_the_page_confirms_and_sends_the_email(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("seller_center:staff_invite"),
            {"email": "hire@example.com", "role": SellerRole.PRODUCT_MANAGER},
            follow=True,
        )

    assert "Invitation sent to hire@example.com" in response.content.decode()
    assert "http://testserver/seller/invitations/" in mailoutbox[0].body


def test_a_refused_invitation_shows_the_reason_next_to_the_email(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:staff_invite"),
        {"email": seller.owner.email, "role": SellerRole.FINANCE},
    )

    assert response.status_code == 400
    assert 'id="id_email_error"' in response.content.decode()
    assert not SellerInvitation.objects.exists()


def test_the_owner_role_is_not_offered_in_the_invitation_form(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:staff_invite"), {"email": "x@example.com", "role": SellerRole.OWNER}
    )

    assert response.status_code == 400
    assert not SellerInvitation.objects.exists()


def test_the_accept_page_shows_the_shop_and_role_then_accepts_on_post(client):
    seller = ApprovedSellerFactory(shop_name="Clay Works")
    _, token = invite(seller, email="hire@example.com", role=SellerRole.FINANCE)
    user = UserFactory(email="hire@example.com")
    client.force_login(user)
    url = reverse("seller_center:invitation_accept", args=[token])

    page = client.get(url).content.decode()
    response = client.post(url, follow=True)

    assert "Clay Works" in page and "finance" in page
    assert SellerMember.objects.get(user=user).role == SellerRole.FINANCE
    assert response.redirect_chain[-1][0] == reverse("seller_center:dashboard")
    assert "Welcome to Clay Works" in response.content.decode()


def test_the_accept_page_needs_a_signed_in_user(client):
    _, token = invite(ApprovedSellerFactory())

    response = client.get(reverse("seller_center:invitation_accept", args=[token]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_the_accept_page_explains_a_wrong_account(client):
    _, token = invite(ApprovedSellerFactory(), email="hire@example.com")
    client.force_login(UserFactory(email="other@example.com"))
    url = reverse("seller_center:invitation_accept", args=[token])

    page = client.get(url).content.decode()
    response = client.post(url)

    assert "sent to hire@example.com" in page
    assert "Accept and join" not in page
    assert response.status_code == 400
    assert not SellerMember.objects.filter(user__email="other@example.com").exists()


@pytest.mark.parametrize(
    "role", [SellerRole.PRODUCT_MANAGER, SellerRole.ORDER_MANAGER, SellerRole.FINANCE]
)
def test_roles_that_do_not_manage_staff_cannot_invite_or_remove(client, role):
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller, role=role)
    colleague = SellerMemberFactory(seller=seller, role=SellerRole.FINANCE)
    client.force_login(member.user)

    assert client.get(reverse("seller_center:staff")).status_code == 404
    assert (
        client.post(
            reverse("seller_center:staff_invite"), {"email": "x@example.com", "role": "finance"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("seller_center:staff_member_remove", args=[colleague.pk])).status_code
        == 404
    )
    assert SellerMember.objects.filter(pk=colleague.pk).exists()
    assert not SellerInvitation.objects.exists()


def test_an_admin_manages_staff_too(client):
    seller = ApprovedSellerFactory()
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN)
    colleague = SellerMemberFactory(seller=seller, role=SellerRole.FINANCE)
    client.force_login(admin.user)

    client.post(
        reverse("seller_center:staff_member_role", args=[colleague.pk]),
        {"role": SellerRole.ORDER_MANAGER},
    )

    colleague.refresh_from_db()
    assert colleague.role == SellerRole.ORDER_MANAGER


def test_changing_the_owners_role_from_the_page_is_refused_with_a_message(client):
    seller = ApprovedSellerFactory()
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN)
    owner = seller.members.get(role=SellerRole.OWNER)
    client.force_login(admin.user)

    response = client.post(
        reverse("seller_center:staff_member_role", args=[owner.pk]),
        {"role": SellerRole.FINANCE},
        follow=True,
    )

    assert "cannot be changed" in response.content.decode()
    owner.refresh_from_db()
    assert owner.role == SellerRole.OWNER


def test_a_removed_member_is_locked_out_on_their_next_request(client):
    seller = ApprovedSellerFactory()
    member = SellerMemberFactory(seller=seller, role=SellerRole.ORDER_MANAGER)
    owner_client, member_client = client, client.__class__()
    member_client.force_login(member.user)
    assert member_client.get(reverse("seller_orders:list")).status_code == 200
    owner_client.force_login(seller.owner)

    owner_client.post(reverse("seller_center:staff_member_remove", args=[member.pk]))

    response = member_client.get(reverse("seller_center:dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("seller_center:apply")
    assert member_client.get(reverse("seller_orders:list")).status_code == 302


def test_one_seller_can_never_touch_another_sellers_members_or_invitations(client):
    mine, theirs = ApprovedSellerFactory(), ApprovedSellerFactory()
    their_member = SellerMemberFactory(seller=theirs, role=SellerRole.FINANCE)
    their_invitation, _ = invite(theirs, email="theirs@example.com")
    client.force_login(mine.owner)

    html = client.get(reverse("seller_center:staff")).content.decode()
    responses = [
        client.post(
            reverse("seller_center:staff_member_role", args=[their_member.pk]),
            {"role": SellerRole.ADMIN},
        ),
        client.post(reverse("seller_center:staff_member_remove", args=[their_member.pk])),
        client.post(reverse("seller_center:staff_invitation_revoke", args=[their_invitation.pk])),
    ]

    assert their_member.user.email not in html
    assert "theirs@example.com" not in html
    assert [response.status_code for response in responses] == [404, 404, 404]
    their_member.refresh_from_db()
    their_invitation.refresh_from_db()
    assert their_member.role == SellerRole.FINANCE
    assert their_invitation.revoked_at is None


def test_the_services_refuse_another_sellers_ids():
    mine, theirs = ApprovedSellerFactory(), ApprovedSellerFactory()
    their_member = SellerMemberFactory(seller=theirs)

    with pytest.raises(SellerRecordNotFound):
        seller_member_remove(seller=mine, member_id=their_member.pk, actor=mine.owner)
    assert SellerMember.objects.filter(pk=their_member.pk).exists()


def test_a_closed_shop_cannot_invite():
    with pytest.raises(InvitationRefused):
        invite(SellerFactory(status=SellerStatus.CLOSED))
    assert not SellerInvitation.objects.exists()


def test_the_staff_page_query_count_does_not_grow_with_members(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("seller_center:staff")).status_code == 200
        return len(queries)

    SellerMemberFactory(seller=seller)
    invite(seller, email="one@example.com")
    count()  # a first request may create one-off rows (the enforcement settings)
    few = count()
    for number in range(8):
        SellerMemberFactory(seller=seller)
        invite(seller, email=f"more{number}@example.com")

    assert count() == few
