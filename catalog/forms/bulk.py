"""Input of the bulk CSV upload page. The file is checked as a whole by the service's own check,
so the rules live in one place (catalog/services/bulk_upload.py)."""

from django import forms

from catalog.services import bulk_upload as bulk_upload_services


class BulkUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"The template's columns, saved as CSV UTF-8: at most "
            f"{bulk_upload_services.MAX_FILE_BYTES // 1_048_576} MB and "
            f"{bulk_upload_services.MAX_ROWS:,} rows."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            bulk_upload_services.bulk_file_check(upload)
        except bulk_upload_services.InvalidBulkFile as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        return upload
