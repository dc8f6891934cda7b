"""The import commands' shared body: a CSV file of one kind (retro.imports.kinds), whole or not at all, with a bar."""

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from loyalty.models import Program
from retro.imports.report import ErrorReportWriter
from retro.imports.services import (
    CHUNK_SIZE,
    ImportFileError,
    count_csv_rows,
    import_csv,
    read_csv_header,
    start_import,
)


class ImportCommand(BaseCommand):
    """Subclass with `kind` and `help`; `summary(batch)` says what the import did."""

    kind = ""

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file with a header line (UTF-8)")
        parser.add_argument("--program", required=True, help="program code, e.g. shop")
        parser.add_argument("--errors", help="error report path (default: FILE.errors.csv next to the file)")
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_SIZE, help="rows per chunk (written and counted together)"
        )
        parser.add_argument("--no-progress", action="store_true", help="do not draw the progress bar on stderr")

    def handle(self, *args, file, program, errors, chunk_size, no_progress, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        program_obj = Program.objects.filter(code=program).first()
        if program_obj is None:
            raise CommandError(f"No program with code {program!r}.")
        errors_path = Path(errors) if errors else path.with_name(path.name + ".errors.csv")

        with path.open("rb") as binary:
            try:
                columns = read_csv_header(binary, kind=self.kind)
            except ImportFileError as exc:
                raise CommandError(str(exc))
            binary.seek(0)
            total = count_csv_rows(binary)
            batch = start_import(
                program=program_obj, channel="command", file_name=path.name, rows_total=total, kind=self.kind
            )
            progress = None if no_progress else ProgressBar(sys.stderr, total)
            with errors_path.open("w", newline="", encoding="utf-8") as report_file:
                report = ErrorReportWriter(report_file, columns)
                try:
                    import_csv(
                        batch=batch,
                        binary=binary,
                        chunk_size=chunk_size,
                        on_progress=progress.update if progress else None,
                        on_errors=report.write,
                    )
                except ImportFileError as exc:
                    raise CommandError(str(exc))
                except Exception as exc:
                    # The service logged the cause and marked the batch failed: nothing of the file is in.
                    batch.refresh_from_db()
                    reasons = [e["reason"] for e in batch.errors if e.get("row") is None]
                    raise CommandError(f"Import #{batch.pk} failed. {reasons[-1] if reasons else exc}") from exc
                finally:
                    report.finish()
                    if progress:
                        progress.close()

        self.stdout.write(self.summary(batch))
        if batch.rows_rejected:
            self.stdout.write(f"Error report: {errors_path}")


    def summary(self, batch):
        return (
            f"Import #{batch.pk}: {batch.rows_done:,} rows, {batch.rows_imported:,} imported, "
            f"{batch.rows_duplicate:,} duplicates, {batch.rows_rejected:,} rejected."
        )


class ProgressBar:
    """A one-line progress bar redrawn in place on a terminal stream."""

    WIDTH = 30

    def __init__(self, stream, total):
        self.stream = stream
        self.total = max(total, 1)
        self.started = time.perf_counter()

    def update(self, batch):
        done = batch.rows_done
        share = min(done / self.total, 1)
        filled = int(share * self.WIDTH)
        rate = done / max(time.perf_counter() - self.started, 1e-6)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%} {done:,}/{self.total:,} rows "
            f"· {batch.rows_imported:,} new · {batch.rows_posted:,} posted · {batch.rows_duplicate:,} dup "
            f"· {batch.rows_rejected:,} bad "
            f"· {rate:,.0f} rows/s"
        )
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()
