"""The CSV upload form of the retro transaction import screen."""

from django import forms

from loyalty.models import Program
from retro.imports.services import ImportFileError
from retro.imports.uploads import upload_transactions_file

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class TransactionUploadForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.order_by("name"), empty_label="Choose a program")
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header line: source_id, transaction_date (or occurred_at) and the key columns.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 200 MB: use the import command instead.")
        return upload

    def start_import(self, *, user):
        """Start the import; a file that cannot be imported becomes a form error (returns None)."""
        try:
            return upload_transactions_file(
                program=self.cleaned_data["program"], uploaded_file=self.cleaned_data["file"], started_by=user
            )
        except ImportFileError as exc:
            self.add_error("file", str(exc))
            return None
