"""manage.py reprocess_retro_claims: the daily reprocessing pass on demand, with a progress bar on stderr."""

import time

from django.core.management.base import BaseCommand, OutputWrapper

from retro.reprocessing import DEFAULT_BATCH_SIZE, outstanding_total, run_daily_pass


class ProgressBar:
    """A one-line text bar redrawn in place on a terminal, printed per step otherwise."""

    def __init__(self, total, stream, width=30):
        self.total, self.stream, self.width = max(total, 1), stream, width
        self.started = time.monotonic()
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done):
        share = min(done / self.total, 1.0)
        filled = int(share * self.width)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{self.total:,} claims ({rate:,.0f}/s)"
        self._write(f"\r{line}" if self.tty else f"{line}\n")

    def close(self):
        if self.tty:
            self._write("\n")

    def _write(self, text):
        if isinstance(self.stream, OutputWrapper):
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()


class Command(BaseCommand):
    help = "Re-match every Outstanding retro claim now (the same pass the daily Celery beat task runs)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Claims per batch.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args, batch_size, no_progress, **options):
        bar = None if no_progress else ProgressBar(outstanding_total(), self.stderr)
        result = run_daily_pass(batch_size=batch_size, progress=bar)
        if bar:
            bar.close()
        self.stdout.write(self.style.SUCCESS(str(result)))
