"""manage.py issue_api_token USERNAME: a new API token for a user, printed once (only its hash is stored)."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from loyalty.api_tokens import issue_token, rotation_overlap


class Command(BaseCommand):
    help = (
        "Issue an API token for USERNAME and print it, once: the database keeps only its hash. It works "
        "API_TOKEN_TTL_DAYS (or --days) days. The user's other tokens are left as they are, unless --revoke-old "
        "(they stop now) or --overlap (they stop within API_TOKEN_ROTATION_OVERLAP_DAYS, or --overlap-days)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, help="Days the token works (default: API_TOKEN_TTL_DAYS).")
        old = parser.add_mutually_exclusive_group()
        old.add_argument("--revoke-old", action="store_true", help="The user's other tokens stop working now.")
        old.add_argument(
            "--overlap", action="store_true",
            help="The user's other tokens keep working API_TOKEN_ROTATION_OVERLAP_DAYS more at most.",
        )  # fmt: skip
        old.add_argument("--overlap-days", type=int, help="As --overlap, with this many days.")

    def handle(self, *args, username, days, revoke_old, overlap, overlap_days, **options):
        if days is not None and days < 1:
            raise CommandError("--days is at least 1.")
        if overlap_days is not None and overlap_days < 1:
            raise CommandError("--overlap-days is at least 1 (--revoke-old stops them now).")
        try:
            user = get_user_model().objects.get(**{get_user_model().USERNAME_FIELD: username})
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"{username!r} is not active: its tokens would be refused.")
        if revoke_old:
            old_tokens_for = dt.timedelta(0)
        elif overlap or overlap_days:
            old_tokens_for = dt.timedelta(days=overlap_days) if overlap_days else rotation_overlap()
        else:
            old_tokens_for = None
        row, token = issue_token(user, days=days, old_tokens_for=old_tokens_for)
        self.stdout.write(token)
        if old_tokens_for is None:
            others = "its other tokens are unchanged"
        elif old_tokens_for:
            others = f"its other tokens work {old_tokens_for.days} more day(s) at most"
        else:
            others = "its other tokens no longer work"
        self.stderr.write(
            f"API token for {username}, valid until {row.expiry:%Y-%m-%d %H:%M} UTC; {others}. It is shown only "
            "now: the database keeps its hash. Send it as `Authorization: Token <token>`."
        )
