"""The CSV upload form of the import screens (one per kind: retro transactions, flights)."""

from django import forms

from loyalty.models import Program
from retro.imports import limits
from retro.imports.kinds import KINDS
from retro.imports.services import TRANSACTIONS, ImportFileError
from retro.imports.uploads import upload_file


class UploadForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.order_by("name"), empty_label="Choose a program")
    file = forms.FileField(label="CSV file")

    def __init__(self, *args, upload_too_large=False, kind=TRANSACTIONS, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.fields["file"].help_text = KINDS[kind].file_help
        # UploadSizeCap dropped the file as it arrived: say why, rather than "This field is required."
        self.upload_too_large = upload_too_large

    def clean(self):
        if self.upload_too_large:
            self.errors.pop("file", None)
            self.add_error("file", limits.upload_too_large_message())
        return super().clean()

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > limits.MAX_UPLOAD_BYTES:
            raise forms.ValidationError(limits.upload_too_large_message())
        return upload

    def start_import(self, *, user):
        """Start the import; a file that cannot be imported becomes a form error (returns None)."""
        try:
            return upload_file(
                program=self.cleaned_data["program"],
                uploaded_file=self.cleaned_data["file"],
                started_by=user,
                kind=self.kind,
            )
        except ImportFileError as exc:
            self.add_error("file", str(exc))
            return None
