"""Input of the intellectual-property pages: a complaint, a seller's appeal, a staff decision.
Documents are checked by the services (marketplace.uploads.check_document)."""

from django import forms

from catalog.models import IPComplaint
from catalog.services import ip_complaints as ip_services
from marketplace.uploads import MAX_DOCUMENT_BYTES

DOCUMENT_WIDGET_ATTRS = {"accept": ".pdf,.jpg,.jpeg,.png"}
DOCUMENT_HELP = f"PDF, JPEG or PNG, at most {MAX_DOCUMENT_BYTES // 1_048_576} MB."


class IPComplaintForm(forms.Form):
    right_type = forms.ChoiceField(
        label="Which right is infringed?",
        choices=IPComplaint.RightType.choices,
        widget=forms.RadioSelect,
    )
    rights_owner = forms.CharField(
        label="Owner of the right",
        max_length=ip_services.MAX_RIGHTS_OWNER_LENGTH,
        help_text="The person or company that owns the trademark, copyright or patent.",
    )
    registration_number = forms.CharField(
        label="Registration number",
        max_length=ip_services.MAX_REGISTRATION_NUMBER_LENGTH,
        required=False,
        help_text="For a registered trademark or a patent: its number and the office that "
        "issued it.",
    )
    description = forms.CharField(
        label="What infringes the right?",
        max_length=ip_services.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Say what on the listing (its name, images, description, or the product "
        "itself) infringes the right, and how.",
    )
    proof = forms.FileField(
        label="Proof of your rights",
        help_text=f"A registration certificate, or evidence that you own the work. {DOCUMENT_HELP}",
        widget=forms.ClearableFileInput(attrs=DOCUMENT_WIDGET_ATTRS),
    )
    confirm = forms.BooleanField(
        label="I confirm the information above is accurate and that I own the right or may act "
        "for its owner.",
    )


class IPAppealForm(forms.Form):
    text = forms.CharField(
        label="Why should the decision be reversed?",
        max_length=ip_services.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="You can appeal each decision once, so include everything now.",
    )
    evidence = forms.FileField(
        label="Evidence",
        help_text=f"A licence, an authorization or an invoice from the rights owner. {DOCUMENT_HELP}",
        widget=forms.ClearableFileInput(attrs=DOCUMENT_WIDGET_ATTRS),
    )

    def __init__(self, *args, complaint_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if complaint_id is not None:
            # Several appeal forms share one page: distinct ids keep the labels pointing right.
            self.auto_id = f"id_appeal{complaint_id}_%s"


class IPDecisionForm(forms.Form):
    note = forms.CharField(
        label="Note",
        max_length=ip_services.MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 70}),
    )
