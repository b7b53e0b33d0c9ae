"""Forms of the Seller Center set-up: shop profile, addresses, shipping, staff, policies,
qualifications. Input checks only; the services own the rules and write the rows."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketplace.money import Money, MoneyParseError, exponent_of
from marketplace.uploads import MAX_DOCUMENT_BYTES, check_document
from policies.models import Category, PolicyStatus
from sellers.models import Qualification, Seller, SellerRole, ShopAddress
from sellers.services.setup import (
    ADDRESS_FIELDS,
    MAX_FREE_SHIPPING_THRESHOLD_MAJOR,
    MAX_PROCESSING_DAYS,
    MAX_RETURN_WINDOW_DAYS,
    MAX_SHIPPING_FEE_MAJOR,
    MIN_PROCESSING_DAYS,
    MIN_RETURN_WINDOW_DAYS,
    InvalidSetup,
    seller_profile_check,
)

STAFF_ROLE_CHOICES = [(value, label) for value, label in SellerRole.choices if value != "owner"]


class ShopProfileForm(forms.ModelForm):
    class Meta:
        model = Seller
        fields = ["description", "message_hours_start", "message_hours_end", "return_window_days"]
        labels = {
            "description": "Shop description",
            "message_hours_start": "Message hours start",
            "message_hours_end": "Message hours end",
            "return_window_days": "Return window (days)",
        }
        help_texts = {
            "description": "Shown on your public shop page. Plain text.",
            "message_hours_start": "Your business hours for messages: when buyers can expect a "
            "reply. Leave both empty if you have none.",
            "return_window_days": f"How many days after delivery buyers may ask for a return or "
            f"refund, {MIN_RETURN_WINDOW_DAYS} to {MAX_RETURN_WINDOW_DAYS}. Shown on your product "
            "pages and on your buyers' orders.",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
            "message_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "message_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "return_window_days": forms.NumberInput(attrs={"inputmode": "numeric"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        window = self.fields["return_window_days"]
        window.required = False  # left empty: the shop keeps its window
        out_of_range = (
            f"The return window is {MIN_RETURN_WINDOW_DAYS} to {MAX_RETURN_WINDOW_DAYS} days."
        )
        window.error_messages.update(
            invalid="Enter a whole number of days.",
            min_value=out_of_range,
            max_value=out_of_range,
        )

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if len(description) > 2000:
            raise ValidationError("Keep the description under 2,000 characters.")
        return description

    def clean(self):
        cleaned = super().clean()
        if "message_hours_start" in self.errors or "message_hours_end" in self.errors:
            return cleaned  # an hour that is not a time is not "missing"
        try:
            seller_profile_check(
                message_hours_start=cleaned.get("message_hours_start"),
                message_hours_end=cleaned.get("message_hours_end"),
                return_window_days=cleaned.get("return_window_days"),
            )
        except InvalidSetup as error:
            self.add_error(error.field, error.message)
        return cleaned


class ShopAddressForm(forms.Form):
    """The fields of one shop address, taken from the model so lengths and choices match."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(ShopAddress, fields=ADDRESS_FIELDS))
        self.fields["line1"].label = "Address line 1"
        self.fields["line2"].label = "Address line 2"
        self.fields["region"].label = "State or region"

    def address_values(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in ADDRESS_FIELDS}


class ReturnAddressForm(ShopAddressForm):
    # The address fields are required unless the box is ticked; the browser cannot know that, so
    # the server alone checks (otherwise a ticked box could never be submitted).
    use_required_attribute = False

    copy_from_ship_from = forms.BooleanField(
        required=False,
        label="Same as my ship-from address",
        help_text="Copies your ship-from address; the fields below are then ignored.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and self.fields["copy_from_ship_from"].widget.value_from_datadict(
            self.data, self.files, self.add_prefix("copy_from_ship_from")
        ):
            for name in ADDRESS_FIELDS:
                self.fields[name].required = False


def parse_amount(text: str, *, currency: str, maximum_major: int) -> int:
    """A typed amount ("4.99") as integer minor units (499); ValidationError with a message for
    people otherwise."""
    try:
        money = Money.parse(text, currency)
    except MoneyParseError as error:
        raise ValidationError(error.message) from None
    if money.amount_minor > maximum_major * 10 ** exponent_of(currency):
        limit = Money(maximum_major * 10 ** exponent_of(currency), currency)
        raise ValidationError(f"That is more than {limit}: check for a typing mistake.")
    return money.amount_minor


class ShippingTemplateForm(forms.Form):
    flat_fee = forms.CharField(
        label="Shipping fee per order",
        max_length=20,
        help_text="What buyers pay to ship one order, e.g. 4.99. Enter 0 for free shipping.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    free_shipping_threshold = forms.CharField(
        label="Free shipping from",
        max_length=20,
        required=False,
        help_text="Orders at or above this subtotal ship free, e.g. 50.00. Leave empty for never.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    processing_days = forms.IntegerField(
        label="Processing time (working days)",
        min_value=MIN_PROCESSING_DAYS,
        max_value=MAX_PROCESSING_DAYS,
        initial=2,
        help_text=f"Days you need to hand an order to the carrier: {MIN_PROCESSING_DAYS} to "
        f"{MAX_PROCESSING_DAYS}.",
    )

    def __init__(self, *args, currency: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency or settings.MARKETPLACE_CURRENCY
        for name in ("flat_fee", "free_shipping_threshold"):
            self.fields[name].label = f"{self.fields[name].label} ({self.currency})"

    def clean_flat_fee(self) -> int:
        return parse_amount(
            self.cleaned_data["flat_fee"],
            currency=self.currency,
            maximum_major=MAX_SHIPPING_FEE_MAJOR,
        )

    def clean_free_shipping_threshold(self) -> int | None:
        text = self.cleaned_data["free_shipping_threshold"].strip()
        if not text:
            return None
        return parse_amount(
            text, currency=self.currency, maximum_major=MAX_FREE_SHIPPING_THRESHOLD_MAJOR
        )

    @staticmethod
    def initial_from(template) -> dict:
        """Minor units back to the text a person would type."""
        if template is None:
            return {}
        fee = Money(template.flat_fee_minor, template.currency).decimal
        threshold = template.free_shipping_threshold_minor
        return {
            "flat_fee": str(fee),
            "free_shipping_threshold": ""
            if threshold is None
            else str(Money(threshold, template.currency).decimal),
            "processing_days": template.processing_days,
        }


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", help_text="They sign in (or sign up) with it.")
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLE_CHOICES)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=STAFF_ROLE_CHOICES)


class PolicyAcceptanceForm(forms.Form):
    """The versions shown on the page travel with the click, so the service can refuse a text
    that changed while the page was open."""

    version_ids = forms.CharField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="I have read these policies and accept them on behalf of my shop",
        error_messages={"required": "Tick the box to confirm you have read the policies."},
    )

    def clean_version_ids(self) -> list[int]:
        parts = [part for part in self.cleaned_data["version_ids"].split(",") if part.strip()]
        try:
            ids = [int(part) for part in parts]
        except ValueError:
            raise ValidationError("The page was incomplete. Reload it and try again.") from None
        if not ids:
            raise ValidationError("There is no policy to accept.")
        return ids


class QualificationForm(forms.Form):
    kind = forms.ChoiceField(
        label="What are you uploading?",
        choices=Qualification.Kind.choices,
        widget=forms.RadioSelect,
        initial=Qualification.Kind.CATEGORY,
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        required=False,
        label="Restricted category",
        empty_label="Choose a category",
        help_text="For a category qualification: the category the document allows you to sell in.",
    )
    brand_name = forms.CharField(
        label="Brand name",
        max_length=120,
        required=False,
        help_text="For a brand authorization: the brand you are authorized to sell.",
    )
    document = forms.FileField(
        label="Document",
        help_text=f"A licence, certificate or letter of authorization: PDF, JPEG or PNG, at most "
        f"{MAX_DOCUMENT_BYTES // 1_048_576} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    expires_on = forms.DateField(
        label="Valid until",
        required=False,
        help_text="The expiry date printed on the document, if it has one.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(
            policy_status=PolicyStatus.RESTRICTED
        ).order_by("name")

    def clean_document(self):
        document = self.cleaned_data["document"]
        check_document(document)
        return document

    def clean_expires_on(self):
        expires_on = self.cleaned_data.get("expires_on")
        if expires_on is not None and expires_on < timezone.localdate():
            raise ValidationError("This date has passed. Upload a document that is still valid.")
        return expires_on

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Qualification.Kind.CATEGORY and not cleaned.get("category"):
            self.add_error("category", "Choose the restricted category.")
        if kind == Qualification.Kind.BRAND and not (cleaned.get("brand_name") or "").strip():
            self.add_error("brand_name", "Enter the brand name.")
        return cleaned
