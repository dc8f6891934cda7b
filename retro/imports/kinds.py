"""What the shared import can load: retro transactions (the pool) and airline flights (the feed).

Every kind goes through the same pipeline: a CSV upload, a command or an API batch; rows parsed
in a thread while the database writes the previous chunk; a per-row error report; one transaction
for the whole file, so it is published all at once or not at all; progress on the batch. A kind
brings what differs: the columns it needs, a parser of one row, a COPY writer, and what to do
once the file is published.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ImportKind:
    key: str  # RetroImportBatch.kind
    label: str  # "retro transactions", "flights": in messages and on the progress screen
    header_problem: Callable  # (lower-case column names) -> what is wrong with them, or None
    parser: Callable  # (program) -> an object whose parse(raw) returns a row's values or raises RowRejected
    writer: Callable  # (batch) -> an object with prepare(rows) (pure Python) and write(prepared) -> rows added
    permission: str = ""  # who may import it
    title: str = ""  # the upload screen's heading
    file_help: str = ""  # the file field's help text
    format_template: str = ""  # the screen's "File format" explanation
    url_name: str = ""  # its upload screen
    members: Callable | None = None  # (batch) -> poster of rows carrying a membership number
    after_publish: Callable | None = None  # (batch), after the file's transaction committed


    def upload_url(self):
        """Its upload screen: a route of its own, or the shared one taking the kind's key."""
        from django.urls import reverse

        return reverse(self.url_name) if self.url_name else reverse("import-upload", args=[self.key])


KINDS: dict[str, ImportKind] = {}


def register(kind):
    KINDS[kind.key] = kind
    return kind


def kind_of(batch):
    return KINDS[batch.kind]
