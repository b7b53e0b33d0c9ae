"""Forms of the seller application: the details, a KYC document upload, and staff decisions.

Input checks only; the rules (tax ID for businesses, unique shop address, what makes an application
complete) live in sellers/services/application.py, whose errors the views put next to the fields.
"""

import re

from django import forms
from django.core.exceptions import ValidationError

from marketplace.uploads import MAX_DOCUMENT_BYTES, check_document
from policies.models import Category
from sellers.models import KycDocument, Seller
from sellers.services.application import (
    APPLICATION_FIELDS,
    FIELD_LABELS,
    MAX_DESCRIPTION_LENGTH,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class SellerApplicationForm(forms.ModelForm):
    main_category = forms.ModelChoiceField(
        queryset=Category.objects.none(),
        label=FIELD_LABELS["main_category"],
        empty_label="Choose a category",
        help_text="What you mainly sell. You can list products in other categories too.",
    )

    class Meta:
        model = Seller
        fields = APPLICATION_FIELDS
        labels = FIELD_LABELS
        help_texts = {
            "kind": "A business needs its tax ID and its registration certificate.",
            "shop_name": "Shown to shoppers on your shop page and your products.",
            "slug": "Your shop's web address: /shop/<em>your-address</em>/. Lowercase letters, "
            "numbers and hyphens.",
            "legal_name": "Your full legal name, or the registered name of your business, exactly "
            "as on your documents.",
            "contact_email": "Where the marketplace team reaches you about your shop.",
            "tax_id": "Required for businesses: VAT number, EIN or company number.",
            "description": "Shown on your public shop page.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "shop_name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "slug": forms.TextInput(
                attrs={"autocapitalize": "none", "spellcheck": "false", "pattern": "[a-z0-9-]+"}
            ),
            "legal_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "contact_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
            "country": forms.Select(attrs={"autocomplete": "country"}),
            "address_line1": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "address_line2": forms.TextInput(attrs={"autocomplete": "address-line2"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "region": forms.TextInput(attrs={"autocomplete": "address-level1"}),
            "postal_code": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "tax_id": forms.TextInput(attrs={"spellcheck": "false"}),
            "description": forms.Textarea(attrs={"rows": 4, "maxlength": MAX_DESCRIPTION_LENGTH}),
        }
        error_messages = {
            "slug": {"unique": "That shop address is taken. Choose another one."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Sub-categories are for products; a shop names the department it belongs to.
        self.fields["main_category"].queryset = Category.objects.filter(parent__isnull=True)
        # The model's blank choice ("---------") is not a real option for a radio list.
        self.fields["kind"].choices = Seller.Kind.choices
        # clean_slug says what is wrong in plainer words than the generic slug validator.
        self.fields["slug"].validators = []

    def clean_description(self):
        description = (self.cleaned_data.get("description") or "").strip()
        if len(description) > MAX_DESCRIPTION_LENGTH:
            raise ValidationError(
                f"Keep the description under {MAX_DESCRIPTION_LENGTH:,} characters."
            )
        return description

    def clean_slug(self):
        slug = self.cleaned_data["slug"].strip().lower()
        if len(slug) < 3:
            raise ValidationError("Use at least 3 characters for your shop address.")
        if not SLUG_PATTERN.match(slug):
            raise ValidationError(
                "Use only lowercase letters (a-z), numbers and single hyphens between them, "
                "for example green-leaf-tea."
            )
        return slug


class KycDocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label="Document type",
        choices=[("", "Choose a document type"), *KycDocument.Kind.choices],
    )
    file = forms.FileField(
        label="File",
        help_text=f"PDF, JPEG or PNG, up to {MAX_DOCUMENT_BYTES // 1_048_576} MB. A clear scan "
        "or photo of the whole document.",
        widget=forms.FileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # The service checks again before storing; checking here puts the message by the field.
        check_document(upload)
        return upload


class SellerDecisionForm(forms.Form):
    """The reason or message that goes with a staff decision; required for some decisions."""

    message = forms.CharField(
        label="Message to the seller",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
    )

    def __init__(self, *args, message_required: bool, message_label: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["message"]
        field.required = message_required
        field.label = message_label
        field.help_text = "Sent to the seller by email and shown on their application page."
