"""import_flights FILE --program CODE: the airline's departure-control feed (flown coupons), whole or not at all."""

from retro.flights.imports import FLIGHTS
from retro.imports.command import ImportCommand


class Command(ImportCommand):
    kind = FLIGHTS
    help = (
        "Import a CSV file of flown coupons into the program's flight feed, whole or not at all (one transaction; "
        "COPY straight into the table, through a staging table when coupons are already there). Coupons already in "
        "the feed are skipped; rejected rows go to an error report CSV."
    )
