import pytest

from marketplace.errors import IllegalTransition
from sellers.models import Seller, SellerMember, SellerRole, SellerStatus, SellerStatusEvent
from sellers.services import application as services
from tests.accounts.factories import StaffUserFactory, UserFactory
from tests.policies.factories import CategoryFactory, PolicyDocumentFactory, PolicyVersionFactory
from tests.sellers.factories import (
    ApprovedSellerFactory,
    KycDocumentFactory,
    SellerFactory,
    SellerMemberFactory,
    complete_application,
)

pytestmark = pytest.mark.django_db

S = SellerStatus


def application_fields(**overrides):
    fields = {
        "kind": Seller.Kind.INDIVIDUAL,
        "shop_name": "Green Leaf Tea",
        "slug": "green-leaf-tea",
        "legal_name": "Mira Lin",
        "contact_email": "mira@example.com",
        "contact_phone": "+1 555 0199",
        "country": "US",
        "address_line1": "12 Harbour Road",
        "address_line2": "",
        "city": "Portland",
        "region": "OR",
        "postal_code": "97201",
        "tax_id": "",
        "main_category": CategoryFactory(),
        "description": "Loose-leaf tea from small farms.",
    }
    fields.update(overrides)
    return fields


# --- starting and editing ------------------------------------------------------------------


def test_starting_an_application_creates_a_draft_owned_by_its_owner_member():
    owner = UserFactory()

    seller = services.seller_application_start(owner=owner, **application_fields())

    assert seller.status == S.DRAFT
    assert seller.owner == owner
    assert seller.slug == "green-leaf-tea"
    member = SellerMember.objects.get(seller=seller)
    assert (member.user, member.role) == (owner, SellerRole.OWNER)


def test_a_person_who_owns_a_seller_cannot_start_another_application():
    seller = SellerFactory()

    with pytest.raises(services.AlreadyASeller):
        services.seller_application_start(owner=seller.owner, **application_fields())

    assert Seller.objects.count() == 1


def test_a_person_who_works_for_a_seller_cannot_start_an_application():
    member = SellerMemberFactory()

    with pytest.raises(services.AlreadyASeller):
        services.seller_application_start(owner=member.user, **application_fields())

    assert not Seller.objects.filter(owner=member.user).exists()


def test_a_taken_shop_address_is_refused_and_nothing_is_written():
    SellerFactory(slug="green-leaf-tea")
    owner = UserFactory()

    with pytest.raises(services.ShopAddressTaken) as raised:
        services.seller_application_start(owner=owner, **application_fields())

    assert raised.value.message == "That shop address is taken. Choose another one."
    assert raised.value.field_errors == {
        "slug": ["That shop address is taken. Choose another one."]
    }
    assert not Seller.objects.filter(owner=owner).exists()
    assert not SellerMember.objects.filter(user=owner).exists()


def test_a_business_must_give_its_tax_id():
    owner = UserFactory()

    with pytest.raises(services.ApplicationInvalid) as raised:
        services.seller_application_start(
            owner=owner, **application_fields(kind=Seller.Kind.BUSINESS, tax_id="  ")
        )

    assert "tax_id" in raised.value.field_errors
    assert not Seller.objects.exists()


def test_a_business_with_a_tax_id_can_apply():
    seller = services.seller_application_start(
        owner=UserFactory(), **application_fields(kind=Seller.Kind.BUSINESS, tax_id="DE123456789")
    )

    assert seller.tax_id == "DE123456789"


def test_wrong_fields_are_reported_one_by_one():
    with pytest.raises(services.ApplicationInvalid) as raised:
        services.seller_application_start(
            owner=UserFactory(),
            **application_fields(contact_email="not-an-email", country="XX", shop_name=""),
        )

    assert {"contact_email", "country", "shop_name"} <= set(raised.value.field_errors)
    assert not Seller.objects.exists()


def test_the_main_category_must_be_a_top_level_category():
    child = CategoryFactory(parent=CategoryFactory())

    with pytest.raises(services.ApplicationInvalid) as raised:
        services.seller_application_start(
            owner=UserFactory(), **application_fields(main_category=child)
        )

    assert "main_category" in raised.value.field_errors
    assert not Seller.objects.exists()


@pytest.mark.parametrize("status", [S.DRAFT, S.NEEDS_INFO])
def test_the_owner_can_edit_an_editable_application(status):
    seller = SellerFactory(status=status)

    services.seller_application_update(
        seller=seller, actor=seller.owner, shop_name="Renamed", slug="Renamed-Shop"
    )

    seller.refresh_from_db()
    assert (seller.shop_name, seller.slug) == ("Renamed", "renamed-shop")


@pytest.mark.parametrize("status", [S.SUBMITTED, S.APPROVED, S.REJECTED, S.SUSPENDED, S.CLOSED])
def test_an_application_cannot_be_edited_once_submitted_or_decided(status):
    seller = SellerFactory(status=status, shop_name="Original")

    with pytest.raises(services.ApplicationNotEditable):
        services.seller_application_update(seller=seller, actor=seller.owner, shop_name="Changed")

    seller.refresh_from_db()
    assert seller.shop_name == "Original"


def test_only_the_owner_can_edit_the_application():
    seller = SellerFactory(shop_name="Original")
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user

    with pytest.raises(services.NotTheOwner):
        services.seller_application_update(seller=seller, actor=admin, shop_name="Changed")

    seller.refresh_from_db()
    assert seller.shop_name == "Original"


def test_editing_to_a_taken_shop_address_is_refused():
    SellerFactory(slug="taken")
    seller = SellerFactory(slug="mine")

    with pytest.raises(services.ShopAddressTaken):
        services.seller_application_update(seller=seller, actor=seller.owner, slug="taken")

    seller.refresh_from_db()
    assert seller.slug == "mine"


def test_editing_a_business_without_its_tax_id_is_refused():
    seller = SellerFactory(kind=Seller.Kind.BUSINESS, tax_id="GB999")

    with pytest.raises(services.ApplicationInvalid) as raised:
        services.seller_application_update(seller=seller, actor=seller.owner, tax_id="")

    assert "tax_id" in raised.value.field_errors
    seller.refresh_from_db()
    assert seller.tax_id == "GB999"


# --- submitting ----------------------------------------------------------------------------


def test_a_complete_application_is_submitted_and_the_owner_is_told(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory()
    complete_application(seller)

    with django_capture_on_commit_callbacks(execute=True):
        services.seller_application_submit(seller=seller, actor=seller.owner)

    seller.refresh_from_db()
    assert seller.status == S.SUBMITTED
    assert seller.submitted_at is not None
    event = SellerStatusEvent.objects.get(seller=seller)
    assert (event.from_status, event.to_status, event.actor) == (S.DRAFT, S.SUBMITTED, seller.owner)
    assert [message.to for message in mailoutbox] == [[seller.owner.email]]
    assert "received your application" in mailoutbox[0].subject


def test_an_application_that_needed_information_can_be_submitted_again():
    seller = SellerFactory(status=S.NEEDS_INFO, status_message="Upload a clearer scan.")
    complete_application(seller)

    services.seller_application_submit(seller=seller, actor=seller.owner)

    seller.refresh_from_db()
    assert seller.status == S.SUBMITTED
    assert seller.status_message == ""


def assert_not_submitted(seller):
    seller.refresh_from_db()
    assert seller.status == S.DRAFT
    assert not SellerStatusEvent.objects.filter(seller=seller).exists()


def test_submitting_without_a_document_is_refused_with_what_is_missing(mailoutbox):
    seller = SellerFactory()

    with pytest.raises(services.ApplicationIncomplete) as raised:
        services.seller_application_submit(seller=seller, actor=seller.owner)

    assert raised.value.code == "application_incomplete"
    assert any("document" in item for item in raised.value.missing)
    assert_not_submitted(seller)
    assert mailoutbox == []


def test_submitting_with_an_outstanding_policy_names_the_policy():
    seller = SellerFactory()
    complete_application(seller)
    document = PolicyDocumentFactory(title="Prohibited products policy")
    PolicyVersionFactory(document=document, number=3)

    with pytest.raises(services.ApplicationIncomplete) as raised:
        services.seller_application_submit(seller=seller, actor=seller.owner)

    assert raised.value.missing == [
        "Accept the marketplace policies first: Prohibited products policy (version 3)."
    ]
    assert "Accept the marketplace policies first" in raised.value.message
    assert_not_submitted(seller)


def test_a_business_without_tax_id_or_registration_certificate_cannot_submit():
    seller = SellerFactory(kind=Seller.Kind.BUSINESS, tax_id="")
    KycDocumentFactory(seller=seller)

    with pytest.raises(services.ApplicationIncomplete) as raised:
        services.seller_application_submit(seller=seller, actor=seller.owner)

    assert raised.value.missing == [
        "Enter your business's tax ID (VAT number, EIN or company number).",
        "Upload your business registration certificate.",
    ]
    assert_not_submitted(seller)


def test_every_missing_item_is_listed_at_once():
    seller = SellerFactory(main_category=None, postal_code="")
    PolicyVersionFactory()

    with pytest.raises(services.ApplicationIncomplete) as raised:
        services.seller_application_submit(seller=seller, actor=seller.owner)

    missing = raised.value.missing
    assert len(missing) == 3
    assert missing[0] == "Fill in: Postal code, Main category."
    assert "document" in missing[1]
    assert "policies" in missing[2]
    assert_not_submitted(seller)


def test_only_the_owner_can_submit():
    seller = SellerFactory()
    complete_application(seller)
    admin = SellerMemberFactory(seller=seller, role=SellerRole.ADMIN).user

    with pytest.raises(services.NotTheOwner):
        services.seller_application_submit(seller=seller, actor=admin)

    assert_not_submitted(seller)


@pytest.mark.parametrize("status", [S.SUBMITTED, S.APPROVED, S.REJECTED, S.SUSPENDED, S.CLOSED])
def test_only_an_editable_application_can_be_submitted(status):
    seller = SellerFactory(status=status)
    complete_application(seller)

    with pytest.raises(services.ApplicationNotEditable):
        services.seller_application_submit(seller=seller, actor=seller.owner)

    seller.refresh_from_db()
    assert seller.status == status
    assert not SellerStatusEvent.objects.exists()


# --- staff decisions: legal transitions ------------------------------------------------------


def decide(decision, seller, actor, message="Because the documents do not match."):
    if decision == "approve":
        return services.seller_approve(seller_id=seller.pk, actor=actor)
    if decision == "reject":
        return services.seller_reject(seller_id=seller.pk, actor=actor, reason=message)
    if decision == "request_info":
        return services.seller_request_info(seller_id=seller.pk, actor=actor, message=message)
    if decision == "suspend":
        return services.seller_suspend(seller_id=seller.pk, actor=actor, reason=message)
    if decision == "reinstate":
        return services.seller_reinstate(seller_id=seller.pk, actor=actor)
    if decision == "close":
        return services.seller_close(seller_id=seller.pk, actor=actor, reason=message)
    raise AssertionError(decision)


# Written out from docs/architecture.md ("State machines") rather than read from the code under test.
LEGAL_DECISIONS = [
    ("approve", S.SUBMITTED, S.APPROVED),
    ("reject", S.SUBMITTED, S.REJECTED),
    ("request_info", S.SUBMITTED, S.NEEDS_INFO),
    ("suspend", S.APPROVED, S.SUSPENDED),
    ("reinstate", S.SUSPENDED, S.APPROVED),
    ("close", S.DRAFT, S.CLOSED),
    ("close", S.NEEDS_INFO, S.CLOSED),
    ("close", S.APPROVED, S.CLOSED),
    ("close", S.SUSPENDED, S.CLOSED),
    ("close", S.REJECTED, S.CLOSED),
]


@pytest.mark.parametrize(("decision", "from_status", "to_status"), LEGAL_DECISIONS)
def test_each_legal_decision_moves_the_seller_and_records_it(decision, from_status, to_status):
    seller = SellerFactory(status=from_status)
    staff = StaffUserFactory()

    decide(decision, seller, staff)

    seller.refresh_from_db()
    assert seller.status == to_status
    event = SellerStatusEvent.objects.get(seller=seller)
    assert (event.from_status, event.to_status, event.actor) == (from_status, to_status, staff)
    assert services.seller_decision_is_legal(
        seller=SellerFactory(status=from_status), decision=decision
    )


def test_approval_stamps_the_approval_time():
    seller = SellerFactory(status=S.SUBMITTED)

    services.seller_approve(seller_id=seller.pk, actor=StaffUserFactory())

    seller.refresh_from_db()
    assert seller.approved_at is not None
    assert seller.is_open


def test_the_reason_is_kept_as_the_message_to_the_seller():
    seller = SellerFactory(status=S.SUBMITTED)

    services.seller_reject(seller_id=seller.pk, actor=StaffUserFactory(), reason="  Fake ID.  ")

    seller.refresh_from_db()
    assert seller.status_message == "Fake ID."
    assert SellerStatusEvent.objects.get(seller=seller).message == "Fake ID."


def test_an_automatic_rule_may_suspend_without_a_person():
    seller = ApprovedSellerFactory()

    services.seller_suspend(seller_id=seller.pk, actor=None, reason="48 violation points.")

    seller.refresh_from_db()
    assert seller.status == S.SUSPENDED
    assert SellerStatusEvent.objects.get(seller=seller).actor is None


# --- staff decisions: illegal transitions ----------------------------------------------------

ILLEGAL_DECISIONS = [
    (decision, status)
    for decision in ("approve", "reject", "request_info", "suspend", "reinstate", "close")
    for status in S.values
    if not any(d == decision and f == status for d, f, _ in LEGAL_DECISIONS)
]


@pytest.mark.parametrize(("decision", "status"), ILLEGAL_DECISIONS)
def test_an_illegal_decision_is_refused_and_changes_nothing(
    decision, status, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=status, status_message="Earlier message")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(IllegalTransition):
        decide(decision, seller, StaffUserFactory())

    seller.refresh_from_db()
    assert seller.status == status
    assert seller.status_message == "Earlier message"
    assert SellerStatusEvent.objects.count() == 0
    assert mailoutbox == []
    assert not services.seller_decision_is_legal(seller=seller, decision=decision)


def test_the_illegal_list_covers_every_other_pair():
    assert len(ILLEGAL_DECISIONS) + len(LEGAL_DECISIONS) == 6 * len(S.values)


@pytest.mark.parametrize(
    ("decision", "status"),
    [("reject", S.SUBMITTED), ("request_info", S.SUBMITTED), ("suspend", S.APPROVED)],
)
@pytest.mark.parametrize("blank", ["", "   \n"])
def test_a_decision_that_needs_a_reason_refuses_a_blank_one(decision, status, blank):
    seller = SellerFactory(status=status)

    with pytest.raises(services.ReasonRequired):
        decide(decision, seller, StaffUserFactory(), message=blank)

    seller.refresh_from_db()
    assert seller.status == status
    assert not SellerStatusEvent.objects.exists()


def test_a_person_who_is_not_platform_staff_cannot_decide():
    seller = SellerFactory(status=S.SUBMITTED)

    with pytest.raises(services.NotPlatformStaff):
        services.seller_approve(seller_id=seller.pk, actor=seller.owner)

    seller.refresh_from_db()
    assert seller.status == S.SUBMITTED


# --- emails ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "from_status", "subject_words"),
    [
        ("approve", S.SUBMITTED, "is approved"),
        ("reject", S.SUBMITTED, "was not approved"),
        ("request_info", S.SUBMITTED, "More information needed"),
        ("suspend", S.APPROVED, "is suspended"),
        ("reinstate", S.SUSPENDED, "is open again"),
        ("close", S.APPROVED, "is closed"),
    ],
)
def test_the_owner_is_emailed_each_decision_with_its_reason(
    decision, from_status, subject_words, mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=from_status, shop_name="Green Leaf Tea")

    with django_capture_on_commit_callbacks(execute=True):
        decide(decision, seller, StaffUserFactory(), message="The ID photo is blurred.")

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [seller.owner.email]
    assert subject_words in email.subject
    assert "Green Leaf Tea" in email.body
    assert "/seller/application/" in email.body
    if decision in {"reject", "request_info", "suspend", "close"}:
        assert "The ID photo is blurred." in email.body


def test_no_email_leaves_before_the_decision_is_committed(
    mailoutbox, django_capture_on_commit_callbacks
):
    seller = SellerFactory(status=S.SUBMITTED)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.seller_approve(seller_id=seller.pk, actor=StaffUserFactory())

    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1  # the approval email, sent only by the on-commit callbacks
