"""Rules every product entry path shares, each with one owner: the option-name limit
(catalog.models.MAX_OPTION_LENGTH), price parsing (marketplace.money.Money.parse) and the category
status roll-up (policies.screening.effective_category_status). The product form and the CSV
importer must agree with the owner, never with a copy."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from catalog.forms.seller import VariantForm, category_choice_labels, parse_price
from catalog.models import MAX_OPTION_LENGTH
from catalog.services.bulk_upload import COLUMNS, CsvRow, _number_errors, _option_errors
from catalog.services.products import MAX_STORED_INTEGER
from marketplace.money import Money, MoneyTooLarge
from policies.models import PolicyStatus
from policies.screening import effective_category_status
from policies.selectors import category_rules_load
from tests.policies.factories import CategoryFactory


def variant_form(**values) -> VariantForm:
    data = {"seller_sku": "SKU-1", "price": "12.50", "stock_on_hand": "3", **values}
    return VariantForm(data, currency="USD")


USD = SimpleNamespace(currency="USD")  # the part of the importer's context prices need


def csv_row(**values) -> CsvRow:
    return CsvRow(number=2, values=dict.fromkeys(COLUMNS, "") | values)


# --- The option-name limit ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "length, accepted", [(MAX_OPTION_LENGTH, True), (MAX_OPTION_LENGTH + 1, False)]
)
def test_the_form_and_the_importer_take_the_same_option_length(length, accepted):
    name, value = "N" * length, "V" * length

    form = variant_form(option1_name=name, option1_value=value)
    row = csv_row(option1_name=name, option1_value=value)

    assert form.is_valid() is accepted
    assert (not _option_errors(row, (name, ""), first_row=2)) is accepted


# --- Price parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, minor", [("12.50", 1250), ("1,250", 125_000), ("21474836.47", MAX_STORED_INTEGER)]
)
def test_the_form_and_the_importer_read_a_price_as_money_parse_does(text, minor):
    assert Money.parse(text, "USD", maximum_minor=MAX_STORED_INTEGER).amount_minor == minor
    assert parse_price(text, "USD") == minor
    assert _number_errors(csv_row(price=text, stock="1"), USD) == []


@pytest.mark.parametrize("text", ["1e15", "99999999999999999999", "21474836.48"])
def test_the_form_and_the_importer_refuse_a_price_too_large_for_the_column(text):
    with pytest.raises(MoneyTooLarge):
        Money.parse(text, "USD", maximum_minor=MAX_STORED_INTEGER)
    with pytest.raises(ValidationError, match="The price is too large; the most is"):
        parse_price(text, "USD")
    assert _number_errors(csv_row(price=text, stock="1"), USD) == [
        "Price: the amount is too large."
    ]


# --- The category status roll-up ------------------------------------------------------------------


@pytest.mark.django_db
def test_category_labels_mark_the_status_the_screening_applies():
    restricted = CategoryFactory(name="Health", policy_status=PolicyStatus.RESTRICTED)
    child = CategoryFactory(name="Vitamins", parent=restricted)
    banned = CategoryFactory(name="Weapons", parent=child, policy_status=PolicyStatus.PROHIBITED)
    plain = CategoryFactory(name="Kitchen")

    labels = category_choice_labels()
    rules = category_rules_load()

    assert labels[child.pk] == "Health > Vitamins (restricted: needs an approved qualification)"
    assert labels[banned.pk] == "Health > Vitamins > Weapons (prohibited: listings are refused)"
    assert labels[plain.pk] == "Kitchen"
    for category in (restricted, child, banned, plain):
        status = effective_category_status(category.pk, rules)
        assert (status == PolicyStatus.RESTRICTED) == labels[category.pk].endswith(
            "(restricted: needs an approved qualification)"
        )
        assert (status == PolicyStatus.PROHIBITED) == labels[category.pk].endswith(
            "(prohibited: listings are refused)"
        )
