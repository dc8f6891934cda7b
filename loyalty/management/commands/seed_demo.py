"""manage.py seed_demo: load the deterministic demo (programs, members, activities, logins)."""

from django.core.management.base import BaseCommand, CommandError

from loyalty.demo import DEMO_LOGINS, seed_demo


class Command(BaseCommand):
    help = "Create the demo programs, members, a year of activities and the demo logins (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=200, help="How many demo members (default 200).")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the database already has members.")
        parser.add_argument("--no-activities", action="store_true", help="Skip the year of activities.")
        parser.add_argument(
            "--skip", action="append", default=[], metavar="STEP", help="Skip an app's demo step (repeatable)."
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")

    def handle(self, *args, members, if_empty, no_activities, skip, quiet, **options):
        if members < 1:
            raise CommandError("--members must be at least 1.")
        log = (lambda message: None) if quiet else self.stdout.write
        summary = seed_demo(members=members, if_empty=if_empty, with_activities=not no_activities, skip=skip, log=log)
        if quiet:
            return
        if summary["skipped"]:
            self.stdout.write("Demo logins, if this database was seeded by seed_demo:")
        else:
            self.stdout.write(self.style.SUCCESS("Demo logins:"))
        for username, password, role, _ in DEMO_LOGINS:
            self.stdout.write(f"  {role:<11} {username} / {password}")
