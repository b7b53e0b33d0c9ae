"""Settings: the shop profile with message hours, one address of each kind, the shipping template
typed in currency (a decimal comma is refused, never read as thousands) and stored in minor
units."""

from datetime import time

import pytest
from django.urls import reverse

from sellers.forms.setup import ShippingTemplateForm
from sellers.models import ShippingTemplate, ShopAddress
from sellers.services.setup import InvalidSetup, shipping_template_set, shop_address_set
from tests.sellers.factories import (
    ApprovedSellerFactory,
    ShippingTemplateFactory,
    ShopAddressFactory,
)

pytestmark = pytest.mark.django_db

ADDRESS = {
    "contact_name": "Mia Lopez",
    "phone": "+1 555 0199",
    "line1": "5 Harbour Lane",
    "line2": "",
    "city": "Portland",
    "region": "OR",
    "postal_code": "97201",
    "country": "US",
}


def test_the_profile_saves_the_description_and_message_hours(owner_client):
    response = owner_client.post(
        reverse("seller_center:settings"),
        {
            "description": "  Hand-made ceramics.  ",
            "message_hours_start": "09:00",
            "message_hours_end": "17:30",
        },
        follow=True,
    )

    seller = owner_client.seller
    seller.refresh_from_db()
    assert seller.description == "Hand-made ceramics."
    assert (seller.message_hours_start, seller.message_hours_end) == (time(9), time(17, 30))
    assert "Your shop profile is saved" in response.content.decode()


def test_message_hours_need_both_ends_in_order(owner_client):
    response = owner_client.post(
        reverse("seller_center:settings"),
        {"description": "x", "message_hours_start": "18:00", "message_hours_end": "09:00"},
    )

    owner_client.seller.refresh_from_db()
    assert response.status_code == 400
    assert "The end must be after the start." in response.content.decode()
    assert owner_client.seller.message_hours_start is None


def test_an_invalid_profile_answers_400(client):
    seller = ApprovedSellerFactory()
    client.force_login(seller.owner)

    response = client.post(
        reverse("seller_center:settings"),
        {"description": "x", "message_hours_start": "25:99", "message_hours_end": "nope"},
    )

    assert response.status_code == 400
    assert 'id="id_message_hours_start_error"' in response.content.decode()


def test_saving_an_address_twice_keeps_one_of_its_kind(owner_client):
    url = reverse("seller_center:address_ship_from")
    owner_client.post(url, ADDRESS)
    owner_client.post(url, {**ADDRESS, "city": "Salem"})

    addresses = ShopAddress.objects.filter(seller=owner_client.seller)
    assert [(a.kind, a.city) for a in addresses] == [(ShopAddress.Kind.SHIP_FROM, "Salem")]


def test_an_incomplete_address_shows_errors_next_to_the_fields(owner_client):
    response = owner_client.post(
        reverse("seller_center:address_ship_from"), {**ADDRESS, "line1": ""}
    )

    assert response.status_code == 400
    assert 'id="id_line1_error"' in response.content.decode()
    assert not ShopAddress.objects.exists()


def test_the_return_address_can_copy_the_ship_from_address(owner_client):
    ShopAddressFactory(seller=owner_client.seller, kind=ShopAddress.Kind.SHIP_FROM, city="Austin")

    response = owner_client.post(
        reverse("seller_center:address_return"), {"copy_from_ship_from": "on"}, follow=True
    )

    returns = ShopAddress.objects.get(seller=owner_client.seller, kind=ShopAddress.Kind.RETURN)
    assert returns.city == "Austin"
    assert "Your returns address is saved" in response.content.decode()


def test_copying_without_a_ship_from_address_explains_what_to_do(owner_client):
    response = owner_client.post(
        reverse("seller_center:address_return"), {"copy_from_ship_from": "on"}
    )

    assert "Add your ship-from address first" in response.content.decode()
    assert not ShopAddress.objects.exists()


def test_the_return_address_can_differ_from_the_ship_from_address(owner_client):
    ShopAddressFactory(seller=owner_client.seller, kind=ShopAddress.Kind.SHIP_FROM, city="Austin")

    owner_client.post(reverse("seller_center:address_return"), ADDRESS)

    returns = ShopAddress.objects.get(seller=owner_client.seller, kind=ShopAddress.Kind.RETURN)
    assert returns.city == "Portland"


def test_the_service_refuses_an_unknown_address_kind():
    with pytest.raises(InvalidSetup):
        shop_address_set(seller=ApprovedSellerFactory(), kind="billing", **ADDRESS)
    assert not ShopAddress.objects.exists()


# --- Shipping: money typed as text, stored as integer minor units ------------------------------


@pytest.mark.parametrize(
    ("typed", "minor"),
    [("4.99", 499), ("0", 0), ("5", 500), (" 12.5 ", 1250), ("1,000.00", 100000), ("0.01", 1)],
)
def test_fees_typed_as_currency_are_stored_in_minor_units(typed, minor):
    form = ShippingTemplateForm(
        {"flat_fee": typed, "free_shipping_threshold": "", "processing_days": "2"}, currency="USD"
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["flat_fee"] == minor
    assert form.cleaned_data["free_shipping_threshold"] is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("-1", "cannot be negative"),
        ("4.999", "at most 2 decimals"),
        ("abc", "Enter an amount such as"),
        ("1e3", "Enter an amount such as"),
        ("NaN", "Enter an amount such as"),
        ("", "This field is required"),
        ("1000.01", "check for a typing mistake"),
        ("99999999999999999999", "That amount is too large"),
    ],
)
def test_bad_fees_are_refused_with_a_clear_field_error(typed, message):
    form = ShippingTemplateForm(
        {"flat_fee": typed, "free_shipping_threshold": "", "processing_days": "2"}, currency="USD"
    )

    assert not form.is_valid()
    assert message in " ".join(form.errors["flat_fee"])


def test_a_currency_without_decimals_refuses_cents():
    form = ShippingTemplateForm(
        {"flat_fee": "500.5", "free_shipping_threshold": "", "processing_days": "2"}, currency="JPY"
    )

    assert not form.is_valid()
    assert "JPY amounts have no decimals" in form.errors["flat_fee"][0]


@pytest.mark.parametrize("days", ["0", "11", "-2", "two"])
def test_processing_days_must_be_one_to_ten(days):
    form = ShippingTemplateForm(
        {"flat_fee": "4.99", "free_shipping_threshold": "", "processing_days": days}
    )

    assert not form.is_valid()
    assert "processing_days" in form.errors


def test_the_shipping_page_saves_the_template(owner_client):
    response = owner_client.post(
        reverse("seller_center:shipping"),
        {"flat_fee": "4.99", "free_shipping_threshold": "50", "processing_days": "3"},
        follow=True,
    )

    template = ShippingTemplate.objects.get(seller=owner_client.seller)
    assert (template.flat_fee_minor, template.free_shipping_threshold_minor) == (499, 5000)
    assert template.processing_days == 3
    assert "$4.99" in response.content.decode()  # the settings page shows it formatted


def test_the_shipping_page_shows_errors_and_writes_nothing(owner_client):
    response = owner_client.post(
        reverse("seller_center:shipping"),
        {"flat_fee": "4.999", "free_shipping_threshold": "-5", "processing_days": "3"},
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_flat_fee_error"' in html
    assert 'id="id_free_shipping_threshold_error"' in html
    assert not ShippingTemplate.objects.exists()


def test_the_shipping_form_shows_the_stored_amounts_as_typed(owner_client):
    ShippingTemplateFactory(
        seller=owner_client.seller, flat_fee_minor=499, free_shipping_threshold_minor=None
    )

    html = owner_client.get(reverse("seller_center:shipping")).content.decode()

    assert 'value="4.99"' in html


def test_the_shipping_service_refuses_out_of_range_values():
    seller = ApprovedSellerFactory()
    with pytest.raises(InvalidSetup):
        shipping_template_set(
            seller=seller, flat_fee_minor=-1, free_shipping_threshold_minor=None, processing_days=2
        )
    with pytest.raises(InvalidSetup):
        shipping_template_set(
            seller=seller,
            flat_fee_minor=100,
            free_shipping_threshold_minor=None,
            processing_days=11,
        )
    assert not ShippingTemplate.objects.exists()


def shipping_form(flat_fee, currency="USD"):
    return ShippingTemplateForm(
        {"flat_fee": flat_fee, "free_shipping_threshold": "", "processing_days": "2"},
        currency=currency,
    )


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


def test_one_sellers_staff_never_touch_another_sellers_addresses(client):
    mine, theirs = ApprovedSellerFactory(), ApprovedSellerFactory()
    ShopAddressFactory(seller=theirs, kind=ShopAddress.Kind.SHIP_FROM, city="Theirsville")
    client.force_login(mine.owner)

    html = client.get(reverse("seller_center:address_ship_from")).content.decode()
    client.post(reverse("seller_center:address_ship_from"), ADDRESS)

    assert "Theirsville" not in html
    assert ShopAddress.objects.get(seller=theirs).city == "Theirsville"
    assert ShopAddress.objects.get(seller=mine).city == "Portland"
