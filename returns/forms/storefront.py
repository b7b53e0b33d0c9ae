"""The shopper's forms on the return pages: typed input in, plain values out. The rules (which
units may be asked about, the window, the files) belong to returns.services; these only turn what
was typed into the values the services take, with a message for people when it cannot."""

from django import forms

from orders.carriers import carrier_choices
from returns.models import REASONS_BY_KIND, RequestKind, RequestReason
from returns.services.common import TEXT_MAX_LENGTH
from returns.services.evidence import MAX_FILES
from returns.services.requests import ReturnableLine

PHOTOS_HELP = f"Up to {MAX_FILES} photos, JPEG or PNG, each at most 10 MB."
QUANTITY_PREFIX = "qty_"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input. What they hold is checked by the service
    (returns.services.evidence), so a refused file is one message and nothing is written."""

    widget = MultiplePhotoInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", PHOTOS_HELP)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png")

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [upload for upload in uploads if upload]


def _reason_help() -> str:
    parts = []
    for kind, reasons in REASONS_BY_KIND.items():
        labels = ", ".join(RequestReason(reason).label.lower() for reason in reasons)
        parts.append(f"{RequestKind(kind).label}: {labels}.")
    return " ".join(parts)


class RequestForm(forms.Form):
    """The request for one order: the kind, the reason, how many units of each line, what
    happened and photos. One quantity field per order line (`qty_<line id>`)."""

    kind = forms.ChoiceField(
        label="What would you like?",
        choices=RequestKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a refund only or a return and refund.",
            "invalid_choice": "Choose a refund only or a return and refund.",
        },
    )
    reason = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *RequestReason.choices],
        error_messages={
            "required": "Choose a reason.",
            "invalid_choice": "Choose one of the reasons listed.",
        },
    )
    description = forms.CharField(
        label="What happened?",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": f"Keep it under {TEXT_MAX_LENGTH:,} characters."},
    )
    photos = PhotosField(label="Photos")

    def __init__(self, *args, returnable: list[ReturnableLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _reason_help()
        self.returnable = returnable
        for item in returnable:
            # A line held by another open request keeps a field (no input is shown for it): a
            # quantity posted from an older page reaches the service, which sends the buyer to
            # the request that holds it.
            limit = item.line.quantity if item.held_by else item.units
            self.fields[f"{QUANTITY_PREFIX}{item.line.pk}"] = forms.IntegerField(
                label=f"How many of {item.line.product_title}",
                required=False,
                min_value=0,
                max_value=limit,
                widget=forms.NumberInput(attrs={"min": 0, "max": limit, "inputmode": "numeric"}),
                error_messages={
                    "invalid": f"{item.line.product_title}: enter a whole number of items.",
                    "min_value": f"{item.line.product_title}: enter 0 or more.",
                    "max_value": (
                        f"{item.line.product_title}: you can ask about at most {limit}."
                        if limit
                        else f"{item.line.product_title}: nothing is left to ask about."
                    ),
                },
            )

    def clean(self):
        cleaned = super().clean()
        kind, reason = cleaned.get("kind"), cleaned.get("reason")
        if kind and reason and reason not in REASONS_BY_KIND[kind]:
            fitting = ", ".join(
                RequestReason(value).label.lower() for value in REASONS_BY_KIND[kind]
            )
            self.add_error(
                "reason",
                f"“{RequestReason(reason).label}” does not go with a "
                f"{RequestKind(kind).label.lower()}. Choose one of: {fitting}.",
            )
        return cleaned

    def line_rows(self) -> list[tuple[ReturnableLine, forms.BoundField]]:
        return [(item, self[f"{QUANTITY_PREFIX}{item.line.pk}"]) for item in self.returnable]

    def quantities(self) -> dict[int, int]:
        """Order line id -> units asked about (valid forms only)."""
        return {
            item.line.pk: self.cleaned_data.get(f"{QUANTITY_PREFIX}{item.line.pk}") or 0
            for item in self.returnable
        }


class ShipBackForm(forms.Form):
    carrier = forms.ChoiceField(
        label="Carrier",
        choices=(),
        error_messages={
            "required": "Choose the carrier you shipped with.",
            "invalid_choice": "Choose the carrier you shipped with.",
        },
    )
    tracking_number = forms.CharField(
        label="Tracking number",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": "Enter the tracking number of your parcel.",
            "max_length": "That is too long for a tracking number.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "Choose a carrier"), *carrier_choices()]


class EscalateForm(forms.Form):
    statement = forms.CharField(
        label="Why should the marketplace step in?",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Explain why the marketplace should step in.",
            "max_length": f"Keep it under {TEXT_MAX_LENGTH:,} characters.",
        },
    )
    photos = PhotosField(label="Photos")


class StatementForm(forms.Form):
    statement = forms.CharField(
        label="Your side of the story",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A new statement replaces the one you gave before.",
        error_messages={"max_length": f"Keep it under {TEXT_MAX_LENGTH:,} characters."},
    )
    photos = PhotosField(label="Photos")


def form_error_text(form: forms.Form) -> str:
    """Every error of a bound form, in one line for a message."""
    return " ".join(message for errors in form.errors.values() for message in errors)
