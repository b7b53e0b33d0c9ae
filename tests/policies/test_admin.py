from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from policies.models import Category, EnforcementSettings, PolicyStatus, PolicyVersion
from tests.policies.factories import (
    CategoryFactory,
    KeywordRuleFactory,
    PolicyDocumentFactory,
    PolicyVersionFactory,
)

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.now() + timedelta(days=n)


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def document():
    document = PolicyDocumentFactory()
    PolicyVersionFactory(
        document=document, number=1, effective_at=days(-30), body_markdown="## In force text"
    )
    return document


def split_datetime(moment):
    return {
        "effective_at_0": moment.strftime("%Y-%m-%d"),
        "effective_at_1": moment.strftime("%H:%M:%S"),
    }


def admin_url(model, view, *args):
    return reverse(f"admin:policies_{model}_{view}", args=args)


@pytest.mark.parametrize("model", ["policydocument", "policyversion", "category", "keywordrule"])
def test_each_changelist_opens_for_staff(admin_client, document, model):
    parent = CategoryFactory(policy_status=PolicyStatus.RESTRICTED)
    CategoryFactory(parent=parent)
    KeywordRuleFactory()

    response = admin_client.get(admin_url(model, "changelist"))

    assert response.status_code == 200


def test_each_change_form_opens_for_staff(admin_client, document):
    objects = {
        "policydocument": document,
        "policyversion": document.versions.get(),
        "category": CategoryFactory(parent=CategoryFactory()),
        "keywordrule": KeywordRuleFactory(),
        "enforcementsettings": EnforcementSettings.current(),
    }

    for model, obj in objects.items():
        assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200, model
        assert admin_client.get(admin_url(model, "add")).status_code in (200, 403), model


def test_the_category_list_shows_each_category_with_its_path_and_inherited_status(admin_client):
    beauty = CategoryFactory(name="Beauty", policy_status=PolicyStatus.RESTRICTED)
    CategoryFactory(name="Lipstick", parent=beauty)

    html = admin_client.get(admin_url("category", "changelist")).content.decode()

    assert "Beauty \N{SINGLE RIGHT-POINTING ANGLE QUOTATION MARK} Lipstick" in html
    assert "restricted (from Beauty)" in html


def test_a_category_cannot_be_moved_under_its_own_subcategory(admin_client):
    parent = CategoryFactory(name="Parent", slug="parent")
    child = CategoryFactory(name="Child", slug="child", parent=parent)

    response = admin_client.post(
        admin_url("category", "change", parent.pk),
        {
            "name": "Parent",
            "slug": "parent",
            "parent": child.pk,
            "policy_status": "allowed",
            "position": 0,
        },
    )

    assert response.status_code == 200
    assert "cannot sit inside itself" in response.content.decode()
    parent.refresh_from_db()
    assert parent.parent is None


def test_the_version_page_shows_a_rendered_preview(admin_client, document):
    version = document.versions.get()

    html = admin_client.get(admin_url("policyversion", "change", version.pk)).content.decode()

    assert "<h2>In force text</h2>" in html
    assert "Draft a new version" in html


def test_a_version_in_force_opens_read_only_and_refuses_a_change(admin_client, document):
    version = document.versions.get()
    url = admin_url("policyversion", "change", version.pk)

    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, {"body_markdown": "Rewritten", "change_summary": "", **split_datetime(days(1))}
    )

    assert 'name="body_markdown"' not in page
    assert response.status_code == 403
    version.refresh_from_db()
    assert version.body_markdown == "## In force text"


def test_a_version_in_force_cannot_be_deleted(admin_client, document):
    version = document.versions.get()

    response = admin_client.post(admin_url("policyversion", "delete", version.pk), {"post": "yes"})

    assert response.status_code == 403
    assert PolicyVersion.objects.filter(pk=version.pk).exists()


def test_drafting_a_new_version_starts_from_the_latest_text(admin_client, document):
    response = admin_client.get(admin_url("policyversion", "add") + f"?document={document.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "## In force text" in html
    assert response.context["adminform"].form.initial["effective_at"] > timezone.now()


def test_the_document_action_opens_the_draft_form(admin_client, document):
    response = admin_client.post(
        admin_url("policydocument", "changelist"),
        {"action": "draft_new_version", "_selected_action": [document.pk]},
    )

    assert response.status_code == 302
    assert response.url == admin_url("policyversion", "add") + f"?document={document.pk}"


def test_saving_a_draft_creates_the_next_version_by_the_signed_in_staff(
    admin_client, staff, document
):
    response = admin_client.post(
        admin_url("policyversion", "add"),
        {
            "document": document.pk,
            "body_markdown": "## New text",
            "change_summary": "Shorter",
            **split_datetime(days(30)),
        },
    )

    assert response.status_code == 302
    created = document.versions.get(number=2)
    assert created.created_by == staff
    assert created.body_markdown == "## New text"


def test_a_draft_dated_in_the_past_is_refused_next_to_the_field(admin_client, document):
    response = admin_client.post(
        admin_url("policyversion", "add"),
        {
            "document": document.pk,
            "body_markdown": "## New text",
            "change_summary": "",
            **split_datetime(days(-2)),
        },
    )

    assert response.status_code == 200
    assert "in the past" in response.content.decode()
    assert document.versions.count() == 1


def test_a_scheduled_version_can_be_corrected_in_admin(admin_client, document):
    scheduled = PolicyVersionFactory(document=document, number=2, effective_at=days(10))

    response = admin_client.post(
        admin_url("policyversion", "change", scheduled.pk),
        {"body_markdown": "Corrected", "change_summary": "Typo", **split_datetime(days(12))},
    )

    assert response.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.body_markdown == "Corrected"


def test_a_scheduled_version_can_be_withdrawn_in_admin(admin_client, document):
    scheduled = PolicyVersionFactory(document=document, number=2, effective_at=days(10))

    response = admin_client.post(
        admin_url("policyversion", "delete", scheduled.pk), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not PolicyVersion.objects.filter(pk=scheduled.pk).exists()


def test_enforcement_settings_open_as_a_single_row(admin_client):
    row = EnforcementSettings.current()

    changelist = admin_client.get(admin_url("enforcementsettings", "changelist"))
    add = admin_client.get(admin_url("enforcementsettings", "add"))
    delete = admin_client.get(admin_url("enforcementsettings", "delete", row.pk))

    assert changelist.status_code == 302
    assert changelist.url == admin_url("enforcementsettings", "change", row.pk)
    assert add.status_code == 403
    assert delete.status_code == 403


def test_enforcement_thresholds_must_ascend(admin_client):
    row = EnforcementSettings.current()

    response = admin_client.post(
        admin_url("enforcementsettings", "change", row.pk),
        {
            "warn_points": 50,
            "restrict_listing_points": 24,
            "suspend_points": 48,
            "points_expire_after_days": 90,
        },
    )

    assert response.status_code == 200
    row.refresh_from_db()
    assert row.warn_points == 12


def test_keyword_phrases_are_stored_in_one_canonical_form(admin_client):
    response = admin_client.post(
        admin_url("keywordrule", "add"),
        {
            "phrase": "  Limited   EDITION ",
            "action": "review",
            "reason": "Checked.",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert KeywordRuleFactory._meta.model.objects.get().phrase == "limited edition"


def test_the_category_status_can_be_edited_from_the_list(admin_client):
    category = CategoryFactory()

    response = admin_client.post(
        admin_url("category", "changelist"),
        {
            "form-TOTAL_FORMS": 1,
            "form-INITIAL_FORMS": 1,
            "form-0-id": category.pk,
            "form-0-policy_status": "prohibited",
            "form-0-position": 0,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    assert Category.objects.get(pk=category.pk).policy_status == "prohibited"


def test_staff_can_edit_a_document_whose_versions_show_read_only(admin_client, document):
    url = admin_url("policydocument", "change", document.pk)
    prefix = admin_client.get(url).context["inline_admin_formsets"][0].formset.prefix

    response = admin_client.post(
        url,
        {
            "title": "Listing rules",
            "slug": document.slug,
            "summary": "Shorter summary",
            "requires_seller_acceptance": "on",
            "position": 3,
            f"{prefix}-TOTAL_FORMS": 1,
            f"{prefix}-INITIAL_FORMS": 1,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        },
    )

    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.title, document.summary) == ("Listing rules", "Shorter summary")
    assert document.versions.get().body_markdown == "## In force text"


def test_a_refusal_by_the_service_comes_back_as_a_message_and_writes_nothing(
    admin_client, document
):
    earlier = PolicyVersionFactory(document=document, number=2, effective_at=days(10))
    PolicyVersionFactory(document=document, number=3, effective_at=days(20))

    response = admin_client.post(
        admin_url("policyversion", "delete", earlier.pk), {"post": "yes"}, follow=True
    )

    assert "Only the latest version can be withdrawn" in response.content.decode()
    assert response.redirect_chain[-1][0] == admin_url("policyversion", "change", earlier.pk)
    assert document.versions.count() == 3
