"""Broker flapping: Redis stopped and started three times during a mixed run of claims (API, CSR screen, member
portal). Every outbox entry reaches the broker exactly once, and every member gets exactly one e-mail.

The Redis here keeps its queue on disk (appendonly, fsync always), as a production broker must: a broker that
forgets what it accepted loses tasks whatever the application does.
"""

import subprocess
import time

import pytest
import redis
from django.core import mail
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.background import relay_outbox
from loyalty.models import OutboxMessage
from retro.models import RetroClaim
from tests.factories import MemberFactory, MembershipFactory
from tests.redis_broker import RedisServer, celery_on
from tests.retro.factories import RetroTransactionFactory, key_values_of, retro_program
from tests.retro.test_broker_outage import run_worker_until_idle

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS, PER_ROUND = 4, 3


class DurableRedis(RedisServer):
    def __init__(self, directory):
        super().__init__()
        self.directory = directory

    def start(self):
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "always", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except Exception:  # noqa: BLE001 - still starting
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)

    def queued(self):
        return self.client().llen("celery")


@pytest.fixture
def broker(tmp_path):
    server = DurableRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_stopped_three_times_delivers_every_outbox_entry_once(broker, roles, csr, member_user, client):
    program = retro_program()
    api = APIClient()
    api.force_authenticate(csr)
    claims = 0

    def one_of_each():
        nonlocal claims
        for _ in range(PER_ROUND):
            membership = MembershipFactory(member=MemberFactory(email=f"m{claims}@example.com"), program=program)
            payload = {"membership_number": membership.membership_number,
                       "key_values": key_values_of(RetroTransactionFactory(program=program))}  # fmt: skip
            assert api.post(reverse("api-retro-claim-submit"), payload, format="json").status_code == 201
            claims += 1
        client.force_login(csr)
        membership = MembershipFactory(member=MemberFactory(email=f"m{claims}@example.com"), program=program)
        url = reverse("member-retro-claims", args=[membership.member.member_number])
        form = {"membership": membership.membership_number, **key_values_of(RetroTransactionFactory(program=program))}
        assert client.post(url, form).status_code == 302
        claims += 1
        client.force_login(member_user)
        portal = key_values_of(RetroTransactionFactory(program=program))
        assert client.post(reverse("portal-home"), portal).status_code == 302
        claims += 1

    with celery_on(broker.url) as app:
        for round_ in range(ROUNDS):
            one_of_each()  # broker up: each e-mail task goes to Redis at commit
            if round_ < 3:
                broker.stop()
                one_of_each()  # broker down: the screens answer as usual, the tasks wait in the outbox
                assert OutboxMessage.objects.filter(sent_at__isnull=True).exists()
                broker.start()
                relay_outbox()  # what beat's relay does every minute
        assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
        messages = OutboxMessage.objects.count()
        assert RetroClaim.objects.filter(status="matched").count() == claims == messages
        assert broker.queued() == messages  # each entry reached the broker once, none lost in the restarts
        assert relay_outbox() == 0
        run_worker_until_idle(app)
    assert len(mail.outbox) == claims
    assert len({message.to[0] for message in mail.outbox}) == claims - (ROUNDS + 3) + 1  # the portal member: one
