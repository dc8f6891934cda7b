"""manage.py simulate_booking_engine: play a booking engine against a running server's exchanges API."""

from argparse import ArgumentTypeError
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from exchanges.demo import DEMO_MARKET, DEMO_MEMBERSHIP, DEMO_PROGRAM, DEMO_TOKEN
from exchanges.simulator import BookingEngineClient, SimulatorError, simulate


def fare(text):
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal(0)
    if not value.is_finite() or value <= 0:
        raise ArgumentTypeError(f"{text!r} is not an amount of money above zero")
    return value


class Command(BaseCommand):
    help = (
        "Play a booking engine through the HTTP API of a running server (e.g. make run): quote, authorize and "
        "capture a 2-ticket points-plus-cash booking, an exchange with a partial refund, a refund by amount, a "
        "replayed request, a key conflict and a soft failure that opens a manual-handling case. Each step prints "
        "one line; the command fails if any answer is not the expected one. The defaults are the demo's "
        "(manage.py seed_demo)."
    )
    # It only talks HTTP: no database, so no checks that might need one.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server (default %(default)s).")
        parser.add_argument(
            "--token", default=DEMO_TOKEN, help="The partner client's API token (default: the demo's, %(default)s)."
        )
        parser.add_argument(
            "--membership", default=DEMO_MEMBERSHIP,
            help="The paying membership number; it needs the miles (default: the demo's %(default)s).",
        )  # fmt: skip
        parser.add_argument("--program", default=DEMO_PROGRAM, help="The program's code (default %(default)s).")
        parser.add_argument("--market", default=DEMO_MARKET, help="The point of sale (default %(default)s).")
        parser.add_argument(
            "--fare", type=fare, default=Decimal("300.00"),
            help="The cash fare of the two tickets, in the market's currency (default %(default)s).",
        )  # fmt: skip
        parser.add_argument("--timeout", type=float, default=15, help="Seconds to wait for each answer.")

    def handle(self, *args, url, token, membership, program, market, fare, timeout, **options):
        try:
            client = BookingEngineClient(url, token, timeout=timeout)
            self.stdout.write(f"Booking engine simulator: {client.url}, {program} in {market}, membership {membership}")
            run = simulate(
                client, program=program, market=market, membership=membership, fare=fare, write=self.stdout.write
            )
        except SimulatorError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Every step answered as expected: redemption {run.redemption} (PNR {run.pnr}), "
                f"manual-handling case {run.case}."
            )
        )
