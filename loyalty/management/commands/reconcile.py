"""manage.py reconcile: prove now what the daily reconciliation proves, and print what it found."""

from django.core.management.base import BaseCommand

from loyalty.reconciliation import run_reconciliation


class Command(BaseCommand):
    help = (
        "Check every invariant the apps register (balances, claims credited once, refunds within captures, "
        "outbox delivered); print each; exit 1 when anything is wrong. The run is kept (admin) and admins are "
        "e-mailed about violations unless --no-mail."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-mail", action="store_true", help="Do not e-mail the admins about violations.")

    def handle(self, *args, no_mail=False, **options):
        run = run_reconciliation(trigger="command", mail=not no_mail)
        for finding in run.findings.all():
            mark = "OK  " if not finding.violations else "FAIL"
            self.stdout.write(f"{mark} {finding.check_name}: {finding.violations} violation(s) "
                              f"({finding.seconds:.2f} s) — {finding.proves}")  # fmt: skip
            for subject, wrong in finding.examples[:10]:
                self.stdout.write(f"       {subject}: {wrong}")
        self.stdout.write(f"{run.checks_run} checks, {run.violations} violation(s); run {run.pk} in admin.")
        if run.violations:
            raise SystemExit(1)
