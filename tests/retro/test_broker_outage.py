"""With the broker down, every channel answers as usual and loses nothing; once it is back, each task runs once.

A real Redis, started by the test on a spare port, stopped and started again; a real Celery worker
(in a thread of the test process) consumes what the outbox relays.
"""

import io
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connections
from django.urls import reverse
from rest_framework.test import APIClient

from loyalty.background import relay_outbox
from loyalty.models import OutboxMessage
from retro.models import RetroClaim, RetroClaimStatus, RetroImportBatch, RetroTransaction
from tests.factories import MemberFactory, MembershipFactory
from tests.redis_broker import RedisServer, celery_on
from tests.retro.factories import RetroTransactionFactory, key_values_of, retro_program
from tests.retro.import_helpers import csv_text, good_row

pytestmark = pytest.mark.django_db(transaction=True)
S = RetroClaimStatus


@pytest.fixture
def redis():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def program(roles):
    return retro_program()


def membership_in(program, email):
    return MembershipFactory(member=MemberFactory(email=email), program=program)


def pending_messages():
    return list(OutboxMessage.objects.filter(sent_at__isnull=True).values_list("task", flat=True))


def run_worker_until_idle(app):
    """A real worker drains the queue; every task it runs is one the broker delivered."""
    with start_worker(app, perform_ping_check=False, shutdown_timeout=20):
        sent = relay_outbox()
        for _ in range(200):
            if not app.connection_for_read().default_channel.client.llen("celery"):
                break
            time.sleep(0.05)
        time.sleep(0.5)  # the last task delivered finishes
    connections.close_all()
    return sent


def test_with_the_broker_down_the_api_answers_201_and_the_email_goes_once_it_is_back(redis, program, csr):
    txn = RetroTransactionFactory(program=program)
    membership = membership_in(program, "zoe@example.com")
    api = APIClient()
    api.force_authenticate(csr)
    payload = {"membership_number": membership.membership_number, "key_values": key_values_of(txn)}
    with celery_on(redis.url) as app:
        response = api.post(reverse("api-retro-claim-submit"), payload, format="json")
        assert response.status_code == 201, response.content
        assert response.data["status"] == "matched"
        assert pending_messages() == ["retro.send_retro_claim_emails"]
        assert not mail.outbox

        redis.start()
        assert run_worker_until_idle(app) == 1
    assert [m.subject for m in mail.outbox] == [f"Your retro claim {response.data['number']} has been credited"]
    assert pending_messages() == []
    # The relay again, and the e-mail task again: nothing is sent twice.
    assert relay_outbox() == 0
    assert len(mail.outbox) == 1


def test_with_the_broker_down_the_csr_form_and_the_portal_answer_as_usual(redis, program, csr, member_user, client):
    by_csr, by_member = RetroTransactionFactory(program=program), RetroTransactionFactory(program=program)
    membership = membership_in(program, "max@example.com")
    with celery_on(redis.url) as app:
        client.force_login(csr)
        url = reverse("member-retro-claims", args=[membership.member.member_number])
        response = client.post(url, {"membership": membership.membership_number, **key_values_of(by_csr)})
        assert response.status_code == 302
        client.force_login(member_user)
        response = client.post(reverse("portal-home"), key_values_of(by_member))
        assert response.status_code == 302
        assert RetroClaim.objects.filter(status=S.MATCHED).count() == 2
        assert pending_messages() == ["retro.send_retro_claim_emails"] * 2
        redis.start()
        assert run_worker_until_idle(app) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(["max@example.com", member_user.member.email])
    assert pending_messages() == []


def test_with_the_broker_down_an_upload_is_accepted_and_imported_when_it_is_back(
    redis, program, supervisor, client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path  # the uploaded file is kept there until the import reads it
    client.force_login(supervisor)
    upload = io.BytesIO(csv_text([good_row(n) for n in range(5)]).encode())
    upload.name = "pos.csv"
    with celery_on(redis.url) as app:
        response = client.post(reverse("retro-transaction-import"), {"program": program.pk, "file": upload})
        assert response.status_code == 302, response.content
        batch = RetroImportBatch.objects.get()
        assert batch.state == RetroImportBatch.State.RUNNING and pending_messages() == ["retro.import_uploaded_file"]
        redis.start()
        run_worker_until_idle(app)
    batch.refresh_from_db()
    assert batch.state == RetroImportBatch.State.DONE
    assert RetroTransaction.objects.filter(program=program).count() == 5
