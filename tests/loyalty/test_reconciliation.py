"""The reconciliation proves every registered invariant, keeps what it found, and tells the admins."""

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from loyalty import services
from loyalty.models import OutboxMessage, ReconciliationRun
from loyalty.reconciliation import run_reconciliation
from loyalty.tasks import reconcile_task
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(roles):
    return [UserFactory(username="root", is_superuser=True, is_staff=True, email="root@example.com"),
            UserFactory(username="ops", role="Admin", email="ops@example.com"),
            UserFactory(username="csr", role="CSR", email="csr@example.com")]  # fmt: skip


def _posted(membership, points=100):
    return services.post_adjustment(
        membership=membership, points=points, reason="Goodwill", source="test", occurred_on=dt.date(2026, 1, 1)
    )


def test_a_clean_ledger_passes_every_check_and_mails_nobody(admins):
    _posted(MembershipFactory())
    run = run_reconciliation(trigger="command")
    assert run.ok and run.checks_run >= 8 and run.violations == 0
    assert {f.check_name for f in run.findings.all()} >= {
        "Ledger entries on their activity's membership", "Background work delivered", "Retro transactions claimed "
        "once", "Coupons credited once", "Membership claims match the ledger", "Refunds within captures",
        "Points operations on the ledger",
    }  # fmt: skip
    assert mail.outbox == []


def test_a_violation_is_kept_with_its_example_and_mailed_to_the_admins(admins):
    activity = _posted(MembershipFactory())
    other = MembershipFactory()
    # What no service writes and the database refuses: an entry counted on another membership than its
    # activity's (the ledger's triggers are bypassed for this test only, as a restore gone wrong could).
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE loyalty_ledgerentry SET membership_id = %s WHERE activity_id = %s",
                       [other.pk, activity.pk])  # fmt: skip
        cursor.execute("SET LOCAL session_replication_role = origin")
    OutboxMessage.objects.create(task="loyalty.relay_outbox")
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(hours=2))
    run = run_reconciliation(trigger="beat")
    assert run.violations == 2 and not run.ok
    found = {f.check_name: f for f in run.findings.all()}
    assert found["Ledger entries on their activity's membership"].violations == 1
    assert "is another's" in found["Ledger entries on their activity's membership"].examples[0][1]
    assert found["Background work delivered"].examples[0][0].startswith("Outbox message")
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == ["ops@example.com", "root@example.com"]
    assert "2 violation(s)" in mail.outbox[0].subject and "Background work delivered" in mail.outbox[0].body


def test_the_command_prints_each_check_and_fails_on_a_violation(capsys):
    call_command("reconcile", "--no-mail")
    assert "OK   Refunds within captures" in capsys.readouterr().out
    OutboxMessage.objects.create(task="loyalty.relay_outbox")
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile", "--no-mail")
    out = capsys.readouterr().out
    assert exit_.value.code == 1 and "FAIL Background work delivered: 1 violation(s)" in out


def test_the_daily_task_runs_it_and_admin_shows_the_run(client, admins):
    reconcile_task()
    run = ReconciliationRun.objects.get()
    assert run.trigger == "beat"
    client.force_login(admins[0])
    assert "OK" in client.get("/admin/loyalty/reconciliationrun/").content.decode()
    page = client.get(f"/admin/loyalty/reconciliationrun/{run.pk}/change/").content.decode()
    assert "Points operations on the ledger" in page


def test_admin_shows_the_daily_jobs_runs(client, admins):
    from loyalty.models import JobRun

    JobRun.objects.create(job="retro.reprocess_retro_claims", started_at=timezone.now(), finished_at=timezone.now(),
                          succeeded=False, seconds=1.5, summary="OperationalError: the server closed")  # fmt: skip
    client.force_login(admins[0])
    page = client.get("/admin/loyalty/jobrun/").content.decode()
    assert "retro.reprocess_retro_claims" in page and "failed" in page
