"""The seller's forms on a request's page (returns/views/seller_center.py): typed input in, plain
values out. The rules (which amounts, which units, which files, when) belong to returns.services;
these only turn what was typed into the values the services take, with a message for people when
they cannot."""

from django import forms

from marketplace.money import Money, MoneyParseError
from returns.models import ReturnRequestLine
from returns.services.common import TEXT_MAX_LENGTH
from returns.services.evidence import MAX_FILES

EVIDENCE_HELP = f"Up to {MAX_FILES} files, photos (JPEG or PNG) or PDF, each at most 10 MB."
EVIDENCE_ACCEPT = "image/jpeg,image/png,application/pdf,.jpg,.jpeg,.png,.pdf"
NOT_RESELLABLE_PREFIX = "not_resellable_"
TOO_LONG = f"Keep it under {TEXT_MAX_LENGTH:,} characters."


class MultipleEvidenceInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class EvidenceField(forms.FileField):
    """Several files in one input. What they hold (type, size, how many) is checked by the
    service (returns.services.evidence), so a refused file is one message and nothing is
    written."""

    widget = MultipleEvidenceInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", EVIDENCE_HELP)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", EVIDENCE_ACCEPT)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [upload for upload in uploads if upload]


def _text_field(label: str, *, rows: int = 3) -> forms.CharField:
    # Never required here: an empty text reaches the service, which says what it needs.
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={"max_length": TOO_LONG},
    )


class RejectForm(forms.Form):
    reason = _text_field("Why you reject the request (the buyer reads it)")
    evidence = EvidenceField(label="Evidence")


class OfferForm(forms.Form):
    """A partial refund typed as money ("12.50"); whether it is more than zero and less than what
    was asked is the service's rule."""

    amount = forms.CharField(
        label="Amount to refund",
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "12.50"}),
        error_messages={
            "required": "Enter the amount you offer, such as 12.50.",
            "max_length": "Enter the amount you offer, such as 12.50.",
        },
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        try:
            return Money.parse(self.cleaned_data["amount"], self.currency).amount_minor
        except MoneyParseError as error:
            raise forms.ValidationError(error.message) from None


class ConfirmReceiptForm(forms.Form):
    """Per line of the return, how many units came back unfit to sell again (`not_resellable_<order
    line id>`, 0 by default); the others go back in stock."""

    def __init__(self, *args, lines: list[ReturnRequestLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            title = line.order_line.product_title
            self.fields[f"{NOT_RESELLABLE_PREFIX}{line.order_line_id}"] = forms.IntegerField(
                label=f"{title}: units not resellable",
                required=False,
                min_value=0,
                max_value=line.quantity,
                error_messages={
                    "invalid": f"{title}: enter a whole number of units.",
                    "min_value": f"{title}: enter 0 or more units.",
                    "max_value": f"{title}: mark at most {line.quantity} as not resellable.",
                },
            )

    def not_resellable(self) -> dict[int, int]:
        """Order line id -> units not resellable (valid forms only)."""
        return {
            line.order_line_id: self.cleaned_data.get(
                f"{NOT_RESELLABLE_PREFIX}{line.order_line_id}"
            )
            or 0
            for line in self.lines
        }


class ProblemForm(forms.Form):
    statement = _text_field("What is wrong with what came back?", rows=4)
    evidence = EvidenceField(label="Evidence")


class EscalateForm(forms.Form):
    statement = _text_field("Why should the marketplace step in?", rows=4)
    evidence = EvidenceField(label="Evidence")


class StatementForm(forms.Form):
    statement = _text_field("Your side of the story", rows=4)
    evidence = EvidenceField(label="Evidence")


def form_error_text(form: forms.Form) -> str:
    """Every error of a bound form, in one line for a message."""
    return " ".join(message for errors in form.errors.values() for message in errors)
