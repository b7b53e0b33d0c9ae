"""Staff edits of a shop's set-up in the admin go through the same services as the seller's own
(sellers.services.setup): the same rules, shown as form errors (never a server error), and the
storefront's cached pages retired."""

import pytest
from django.urls import reverse

from marketplace.pagecache import storefront_version
from sellers.models import ShippingTemplate, ShopAddress
from sellers.services.setup import MAX_SHIPPING_FEE_MAJOR
from tests.orders.factories import ShippingTemplateFactory
from tests.sellers.factories import ApprovedSellerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def template():
    return ShippingTemplateFactory(
        seller=ApprovedSellerFactory(), flat_fee_minor=500, processing_days=2
    )


def template_url(template) -> str:
    return reverse("admin:sellers_shippingtemplate_change", args=[template.pk])


def template_form(**values) -> dict:
    return {
        "flat_fee_minor": 500,
        "free_shipping_threshold_minor": 5000,
        "processing_days": 2,
        **values,
    }


def seller_form(client, seller, **values) -> dict:
    form = (
        client.get(reverse("admin:sellers_seller_change", args=[seller.pk]))
        .context["adminform"]
        .form
    )
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["main_category"] = seller.main_category_id
    for prefix in ("kyc_documents", "policy_acceptances", "status_events"):
        data |= {
            f"{prefix}-TOTAL_FORMS": 0,
            f"{prefix}-INITIAL_FORMS": 0,
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
    return data | values


# --- Shipping templates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "values, field",
    [
        ({"flat_fee_minor": MAX_SHIPPING_FEE_MAJOR * 100 + 1}, "flat_fee_minor"),
        ({"free_shipping_threshold_minor": 10**9}, "free_shipping_threshold_minor"),
        ({"processing_days": 11}, "processing_days"),
    ],
)
def test_an_out_of_range_edit_is_refused_on_its_field_and_changes_nothing(
    staff_client, template, values, field, django_capture_on_commit_callbacks
):
    version = storefront_version()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(template_url(template), template_form(**values))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    template.refresh_from_db()
    assert (template.flat_fee_minor, template.processing_days) == (500, 2)
    assert storefront_version() == version


def test_an_edit_in_range_is_saved_by_the_service_and_retires_cached_pages(
    staff_client, template, django_capture_on_commit_callbacks
):
    version = storefront_version()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(template_url(template), template_form(flat_fee_minor=799))

    assert response.status_code == 302
    assert ShippingTemplate.objects.get(pk=template.pk).flat_fee_minor == 799
    assert storefront_version() > version


# --- Shop addresses ---------------------------------------------------------------------------


def test_an_address_edit_is_written_by_the_service(staff_client):
    seller = ApprovedSellerFactory()
    address = ShopAddress.objects.create(
        seller=seller,
        kind=ShopAddress.Kind.SHIP_FROM,
        contact_name="Ann",
        phone="+1 555 0100",
        line1="1 Dock Road",
        city="Springfield",
        postal_code="12345",
        country="US",
    )
    data = {
        "contact_name": "  Ann Lee  ",
        "phone": "+1 555 0100",
        "line1": "2 Dock Road",
        "line2": "",
        "city": "Springfield",
        "region": "",
        "postal_code": "12345",
        "country": "US",
    }

    response = staff_client.post(
        reverse("admin:sellers_shopaddress_change", args=[address.pk]), data
    )

    assert response.status_code == 302
    address.refresh_from_db()
    assert (address.contact_name, address.line1) == ("Ann Lee", "2 Dock Road")
    assert ShopAddress.objects.filter(seller=seller).count() == 1


# --- Shop profiles ----------------------------------------------------------------------------


def test_message_hours_out_of_order_are_refused_on_the_field(staff_client):
    seller = ApprovedSellerFactory()
    url = reverse("admin:sellers_seller_change", args=[seller.pk])

    response = staff_client.post(
        url,
        seller_form(staff_client, seller, message_hours_start="17:00", message_hours_end="09:00"),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["message_hours_end"] == [
        "The end must be after the start."
    ]
    seller.refresh_from_db()
    assert seller.message_hours_start is None


def test_a_profile_edit_is_saved_by_the_service_and_retires_cached_pages(
    staff_client, django_capture_on_commit_callbacks
):
    seller = ApprovedSellerFactory(description="Old words.")
    url = reverse("admin:sellers_seller_change", args=[seller.pk])
    data = seller_form(staff_client, seller, description="New words.", shop_name="New Name")
    version = storefront_version()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    seller.refresh_from_db()
    assert (seller.description, seller.shop_name) == ("New words.", "New Name")
    assert storefront_version() > version
