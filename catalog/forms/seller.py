"""Seller Center product forms: web input validation only. The services decide what is allowed
(catalog/services/listing.py, images.py); these forms turn typed text into the values they take."""

from django import forms
from django.conf import settings
from django.forms import BaseFormSet, formset_factory
from django.forms.models import ModelChoiceIterator

from catalog.models import MAX_OPTION_LENGTH
from catalog.services.images import MAX_IMAGES_PER_PRODUCT, ImageRefused, product_image_check
from catalog.services.products import MAX_STORED_INTEGER, SkuInput
from marketplace.money import Money, MoneyParseError, MoneyTooLarge
from policies.models import Category, PolicyStatus
from policies.screening import category_path, effective_category_status
from policies.selectors import category_rules_load

# Product details ("Material: Linen") keep names this short; variant options have their own limit
# (catalog.models.MAX_OPTION_LENGTH).
MAX_ATTRIBUTE_NAME_LENGTH = 40


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several images in one input; each is checked like a single upload."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png,image/webp")

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        uploads = [upload for upload in uploads if upload]
        if not uploads:
            if self.required:
                raise forms.ValidationError("Choose at least one image to upload.")
            return []
        uploads = [super(MultipleImageField, self).clean(upload, initial) for upload in uploads]
        if len(uploads) > MAX_IMAGES_PER_PRODUCT:
            raise forms.ValidationError(
                f"Choose at most {MAX_IMAGES_PER_PRODUCT} images for one product."
            )
        errors = []
        for upload in uploads:
            try:
                product_image_check(upload)
            except ImageRefused as error:
                errors.append(f"{upload.name}: {error.message}")
        if errors:
            raise forms.ValidationError(errors)
        return uploads


def category_choice_labels() -> dict[int, str]:
    """Every category's label: its path from the root, marked when its effective status (the
    policies' roll-up of the path, as screening applies it) is restricted or prohibited. One
    query."""
    categories = category_rules_load()
    labels = {}
    for category_id in categories:
        path = category_path(category_id, categories)  # nearest first
        label = " > ".join(category.name for category in reversed(path))
        status = effective_category_status(category_id, categories)
        if status == PolicyStatus.PROHIBITED:
            label += " (prohibited: listings are refused)"
        elif status == PolicyStatus.RESTRICTED:
            label += " (restricted: needs an approved qualification)"
        labels[category_id] = label
    return labels


class CategoryChoiceIterator(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # Sorted by the full path, so each category sits under its parent.
        labels = category_choice_labels()
        yield from sorted(labels.items(), key=lambda item: item[1].lower())


class CategoryChoiceField(forms.ModelChoiceField):
    """Categories by their path, marked when restricted or prohibited, so a seller sees before
    submitting that a choice needs a qualification or will be refused."""

    iterator = CategoryChoiceIterator

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("empty_label", "Choose a category")
        super().__init__(Category.objects.all(), *args, **kwargs)


def parse_attributes(text: str) -> dict[str, str]:
    """ "Material: Linen" lines into {"Material": "Linen"}. Raises ValidationError naming the
    line that has no "name: value" form."""
    attributes: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, separator, value = line.partition(":")
        name, value = " ".join(name.split()), " ".join(value.split())
        if not separator or not name or not value:
            raise forms.ValidationError(
                f"Line {number} (“{line.strip()[:40]}”) needs the form “Name: value”."
            )
        attributes[name[:MAX_ATTRIBUTE_NAME_LENGTH]] = value[:200]
    return attributes


def attributes_as_text(attributes: dict | None) -> str:
    return "\n".join(f"{name}: {value}" for name, value in (attributes or {}).items())


class ProductForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        help_text="Name the product, its brand if any, and its key feature (at most 120 "
        "characters is best).",
    )
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, lists with “- ”. Materials, size, what is in the box.",
    )
    category = CategoryChoiceField(
        help_text="Restricted categories need an approved qualification; prohibited ones are "
        "refused."
    )
    brand_name = forms.CharField(
        label="Brand",
        max_length=120,
        required=False,
        help_text="Leave empty for unbranded goods. Another company's brand needs a brand "
        "authorization (Seller Center > Qualifications), or the listing waits for a reviewer.",
    )
    attributes_text = forms.CharField(
        label="Product details",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Material: Linen\nFit: Relaxed"}),
        help_text="One detail a line, as “Name: value”.",
    )

    def __init__(self, *args, with_images: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_images:
            self.fields["images"] = MultipleImageField(
                label="Images",
                help_text=f"JPEG, PNG or WebP, up to 8 MB each, at most {MAX_IMAGES_PER_PRODUCT}. "
                "The first is the main image.",
            )

    def clean_description(self):
        # Browsers send textarea line breaks as CRLF; store the text with plain LF.
        return self.cleaned_data.get("description", "").replace("\r\n", "\n")

    def clean_attributes_text(self):
        return parse_attributes(self.cleaned_data.get("attributes_text", ""))

    def content_values(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "category": data["category"],
            "brand_name": data["brand_name"],
            "attributes": data["attributes_text"],
        }

    @staticmethod
    def initial_from(product) -> dict:
        return {
            "title": product.title,
            "description": product.description,
            "category": product.category_id,
            "brand_name": product.brand.name if product.brand_id else "",
            "attributes_text": attributes_as_text(product.attributes),
        }


def _money_field(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=20,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12.50"}),
    )


def parse_price(text: str, currency: str) -> int:
    """A typed price in minor units (Money.parse, up to what the column holds), above zero."""
    try:
        amount = Money.parse(text, currency, maximum_minor=MAX_STORED_INTEGER)
    except MoneyTooLarge as error:
        raise forms.ValidationError(f"The price is too large; the most is {error.limit}.") from None
    except MoneyParseError as error:
        raise forms.ValidationError(error.message) from None
    if amount.amount_minor < 1:
        raise forms.ValidationError("The price must be above zero.")
    return amount.amount_minor


def price_text(amount_minor: int | None, currency: str) -> str:
    if amount_minor is None:
        return ""
    return str(Money(amount_minor, currency).decimal)


class VariantForm(forms.Form):
    """One variant row: up to two options (e.g. Colour: Red, Size: M), code, prices, stock."""

    option1_name = forms.CharField(
        label="Option",
        max_length=MAX_OPTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Colour"}),
    )
    option1_value = forms.CharField(
        label="Value",
        max_length=MAX_OPTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Sand"}),
    )
    option2_name = forms.CharField(
        label="Second option",
        max_length=MAX_OPTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Size"}),
    )
    option2_value = forms.CharField(
        label="Value",
        max_length=MAX_OPTION_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "M"}),
    )
    seller_sku = forms.CharField(label="SKU code", max_length=64)
    price = _money_field("Price")
    compare_at_price = _money_field("Compare-at price", required=False)
    stock_on_hand = forms.IntegerField(label="Stock", min_value=0, max_value=MAX_STORED_INTEGER)
    weight_grams = forms.IntegerField(
        label="Weight (g)", min_value=0, max_value=MAX_STORED_INTEGER, required=False
    )

    def __init__(self, *args, currency: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency or settings.MARKETPLACE_CURRENCY

    def clean_price(self):
        return parse_price(self.cleaned_data["price"], self.currency)

    def clean_compare_at_price(self):
        text = self.cleaned_data.get("compare_at_price")
        return parse_price(text, self.currency) if text else None

    def clean(self):
        data = super().clean()
        for index in (1, 2):
            name = " ".join((data.get(f"option{index}_name") or "").split())
            value = " ".join((data.get(f"option{index}_value") or "").split())
            if name and not value:
                self.add_error(f"option{index}_value", f"Give a value for {name}.")
            elif value and not name:
                self.add_error(f"option{index}_name", "Name the option (e.g. Colour or Size).")
            data[f"option{index}_name"], data[f"option{index}_value"] = name, value
        if data.get("option1_name") and data.get("option1_name") == data.get("option2_name"):
            self.add_error("option2_name", "Use two different option names.")
        price, compare_at = data.get("price"), data.get("compare_at_price")
        if price and compare_at is not None and compare_at <= price:
            self.add_error("compare_at_price", "The compare-at price must be above the price.")
        return data

    def to_sku_input(self) -> SkuInput:
        data = self.cleaned_data
        options = {
            data[f"option{index}_name"]: data[f"option{index}_value"]
            for index in (1, 2)
            if data.get(f"option{index}_name")
        }
        return SkuInput(
            seller_sku=data["seller_sku"].strip(),
            price_minor=data["price"],
            stock_on_hand=data["stock_on_hand"],
            option_values=options,
            compare_at_price_minor=data.get("compare_at_price"),
            weight_grams=data.get("weight_grams") or 0,
        )

    @staticmethod
    def initial_from(sku) -> dict:
        options = list((sku.option_values or {}).items())[:2]
        initial = {
            "seller_sku": sku.seller_sku,
            "price": price_text(sku.price_minor, sku.product.currency),
            "compare_at_price": price_text(sku.compare_at_price_minor, sku.product.currency),
            "stock_on_hand": sku.stock_on_hand,
            "weight_grams": sku.weight_grams,
        }
        for index, (name, value) in enumerate(options, start=1):
            initial[f"option{index}_name"] = name
            initial[f"option{index}_value"] = value
        return initial


class BaseVariantFormSet(BaseFormSet):
    default_error_messages = {
        **BaseFormSet.default_error_messages,
        "too_few_forms": "Add at least one variant with a SKU code, a price and stock.",
    }

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this variant"

    def sku_inputs(self) -> list[SkuInput]:
        """The rows to keep: every existing row not marked for deletion, and each new row that
        was filled in (blank extra rows are ignored). Call after is_valid()."""
        initial_count = self.initial_form_count()
        return [
            form.to_sku_input()
            for index, form in enumerate(self.forms)
            if (index < initial_count or form.has_changed()) and not self._should_delete_form(form)
        ]


VariantFormSet = formset_factory(
    VariantForm,
    formset=BaseVariantFormSet,
    extra=2,
    min_num=1,
    validate_min=True,
    max_num=50,
    validate_max=True,
    can_delete=True,
)


class ImageUploadForm(forms.Form):
    images = MultipleImageField(
        label="Add images",
        required=True,
        help_text=f"JPEG, PNG or WebP, up to 8 MB each; a product has at most "
        f"{MAX_IMAGES_PER_PRODUCT}.",
    )


class SkuPriceStockForm(forms.Form):
    """The inline price and stock edit of one variant (list row or product page)."""

    price = _money_field("Price")
    stock_on_hand = forms.IntegerField(label="Stock", min_value=0, max_value=MAX_STORED_INTEGER)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].widget.attrs["size"] = 8
        self.fields["stock_on_hand"].widget.attrs["size"] = 6

    def clean_price(self):
        return parse_price(self.cleaned_data["price"], self.currency)

    @staticmethod
    def initial_from(sku) -> dict:
        return {
            "price": price_text(sku.price_minor, sku.product.currency),
            "stock_on_hand": sku.stock_on_hand,
        }
