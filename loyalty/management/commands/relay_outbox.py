"""manage.py relay_outbox: send the background tasks waiting in the outbox now (beat does it every minute)."""

from django.core.management.base import BaseCommand

from loyalty.background import RELAY_BATCH, relay_outbox, waiting_count


class Command(BaseCommand):
    help = "Hand the tasks waiting in the transactional outbox to Celery's broker."

    def handle(self, *args, **options):
        total = 0
        while sent := relay_outbox(limit=RELAY_BATCH):
            total += sent
        self.stdout.write(f"{total} sent; {waiting_count()} still waiting (the broker is unreachable if any).")
