from django import forms

from marketplace.countries import COUNTRY_CHOICES
from marketplace.payments.local_money import is_ascii_digits
from orders.models import BuyerAddress

ADDRESS_FIELDS = ["name", "line1", "line2", "city", "region", "postal_code", "country", "phone"]
REQUIRED_ADDRESS_FIELDS = ["name", "line1", "city", "postal_code", "country"]
OUT_OF_DATE = "This page was out of date: check your order below and place it again."


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=99)


class AddToCartForm(forms.Form):
    sku_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)


class CardField(forms.CharField):
    def to_python(self, value):
        return "".join((value or "").split())


class PaymentForm(forms.Form):
    card_number = CardField(
        label="Card number",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "cc-number", "inputmode": "numeric"}),
    )

    def clean_card_number(self):
        number = self.cleaned_data["card_number"]
        if not is_ascii_digits(number) or not 12 <= len(number) <= 19:
            raise forms.ValidationError("Enter the card number: 12 to 19 digits (0-9).")
        return number


class CheckoutForm(PaymentForm):
    """Where to ship (a saved address or a new one) and the card."""

    saved_address = forms.ModelChoiceField(
        queryset=BuyerAddress.objects.none(),
        required=False,
        empty_label="A new address (below)",
        widget=forms.RadioSelect,
        label="Ship to",
    )
    name = forms.CharField(max_length=120, required=False, label="Full name")
    line1 = forms.CharField(max_length=200, required=False, label="Address line 1")
    line2 = forms.CharField(max_length=200, required=False, label="Address line 2")
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=100, required=False, label="State / region")
    postal_code = forms.CharField(max_length=20, required=False, label="Postal code")
    country = forms.ChoiceField(choices=COUNTRY_CHOICES, initial="US", required=False)
    phone = forms.CharField(max_length=30, required=False)
    save_address = forms.BooleanField(
        required=False, initial=True, label="Save this address for next time"
    )
    # What the page showed, sent back with the order: the token makes a second submit of the same
    # page find the first one's checkout; the total is the one the shopper agreed to pay.
    submit_token = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,64}$",
        widget=forms.HiddenInput,
        label="Checkout page",
        error_messages={"required": OUT_OF_DATE, "invalid": OUT_OF_DATE},
    )
    expected_total_minor = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        widget=forms.HiddenInput,
        label="Total shown",
        error_messages={
            "required": OUT_OF_DATE,
            "invalid": OUT_OF_DATE,
            "min_value": OUT_OF_DATE,
            "max_value": OUT_OF_DATE,
        },
    )

    field_order = ["saved_address", *ADDRESS_FIELDS, "save_address", "card_number"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        addresses = list(BuyerAddress.objects.filter(user=user))
        if not addresses:
            # No address book yet: the new address is the only choice, and its fields required.
            del self.fields["saved_address"]
            for name in REQUIRED_ADDRESS_FIELDS:
                self.fields[name].required = True
            return
        self.fields["saved_address"].queryset = BuyerAddress.objects.filter(user=user)
        default = next((a for a in addresses if a.is_default), addresses[0])
        if not self.is_bound:
            self.initial["saved_address"] = default.pk

    def clean(self):
        cleaned = super().clean()
        if "saved_address" in self.fields and not cleaned.get("saved_address"):
            for name in REQUIRED_ADDRESS_FIELDS:
                if not cleaned.get(name):
                    self.add_error(name, "Required for a new address.")
        return cleaned

    def address_values(self) -> dict:
        return {name: self.cleaned_data.get(name) or "" for name in ADDRESS_FIELDS}


class SellerOrderDatesForm(forms.Form):
    """The Seller Center orders list's placed-date range (both optional, inclusive)."""

    placed_from = forms.DateField(
        required=False,
        label="Placed from",
        error_messages={"invalid": "enter a date such as 2026-03-31."},
    )
    placed_to = forms.DateField(
        required=False,
        label="Placed to",
        error_messages={"invalid": "enter a date such as 2026-03-31."},
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        for name, value in (("placed_from", start), ("placed_to", end)):
            # The range ends the day after "to": a date at the end of the calendar cannot.
            if value and not 2000 <= value.year <= 2999:
                self.add_error(name, "choose a date between the years 2000 and 2999.")
                cleaned[name] = None
        start, end = cleaned.get("placed_from"), cleaned.get("placed_to")
        if start and end and start > end:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned
