"""The reconciliation: prove every day that no point was lost or given twice, and say so when one was.

Each app registers the invariants of its own data (plugins.ReconciliationCheck, from its AppConfig);
the core adds its own. A run evaluates every check, keeps each one's count and first violations
(ReconciliationRun, shown in admin), and e-mails the admins when anything is wrong. It reads only:
a violation is for a person to look into, never corrected by itself.
"""

import datetime as dt
import logging
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone

from loyalty import plugins
from loyalty.models import LedgerEntry, OutboxMessage, ReconciliationFinding, ReconciliationRun
from loyalty.plugins import ReconciliationCheck

logger = logging.getLogger(__name__)
EXAMPLES = 50
# An outbox message not sent after this long is lost to its worker, not merely waiting for the next relay.
OUTBOX_LATE_AFTER = dt.timedelta(minutes=15)


def run_reconciliation(*, trigger, mail=True):
    """Evaluate every registered check; returns the finished run (its findings saved)."""
    run = ReconciliationRun.objects.create(started_at=timezone.now(), trigger=trigger)
    for check in plugins.RECONCILIATION_CHECKS:
        started = time.perf_counter()
        count, examples = 0, []
        for subject, wrong in check.find():
            count += 1
            if len(examples) < EXAMPLES:
                examples.append([str(subject), str(wrong)])
        ReconciliationFinding.objects.create(
            run=run, check_name=check.name, proves=check.proves, violations=count, examples=examples,
            seconds=round(time.perf_counter() - started, 3),
        )  # fmt: skip
        run.violations += count
        run.checks_run += 1
    run.finished_at = timezone.now()
    run.save(update_fields=["violations", "checks_run", "finished_at"])
    if run.violations:
        logger.error("reconciliation: %d violation(s) in run %s", run.violations, run.pk)
        if mail:
            _mail_admins(run)
    return run


def _mail_admins(run):
    """To every active admin with an address: superusers and the Admin role."""
    User = get_user_model()
    admins = User.objects.filter(Q(is_superuser=True) | Q(groups__name=plugins.ADMIN), is_active=True)
    addresses = sorted({email for email in admins.values_list("email", flat=True) if email})
    if not addresses:
        logger.error("reconciliation: violations found and no admin has an e-mail address")
        return
    lines = [f"The reconciliation of {run.started_at:%Y-%m-%d %H:%M} UTC found {run.violations} violation(s):", ""]
    for finding in run.findings.filter(violations__gt=0):
        lines.append(f"- {finding.check_name}: {finding.violations} ({finding.proves})")
        lines += [f"    {subject}: {wrong}" for subject, wrong in finding.examples[:10]]
    lines += ["", f"Details: Django admin, Reconciliation runs, run {run.pk}."]
    send_mail(f"Reconciliation: {run.violations} violation(s)", "\n".join(lines), settings.DEFAULT_FROM_EMAIL,
              addresses)  # fmt: skip


def _late_outbox_messages():
    cutoff = timezone.now() - OUTBOX_LATE_AFTER
    late = OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).order_by("id")
    for message in late.iterator(chunk_size=500):
        yield f"Outbox message {message.pk} ({message.task})", (
            f"not delivered since {message.created_at:%Y-%m-%d %H:%M}; {message.attempts} attempt(s)"
            + (f", last error: {message.last_error[:120]}" if message.last_error else "")
        )


def _entries_off_their_membership():
    stray = LedgerEntry.objects.exclude(membership_id=F("activity__membership_id")).order_by("id")
    for entry in stray.only("pk", "activity_id", "membership_id").iterator(chunk_size=500):
        yield f"Ledger entry {entry.pk}", (
            f"on membership {entry.membership_id}; its activity {entry.activity_id} is another's"
        )


CORE_CHECKS = [
    ReconciliationCheck(
        "Ledger entries on their activity's membership",
        "A balance is the sum of the membership's ledger entries: each entry counts for the membership of the "
        "activity that posted it.",
        _entries_off_their_membership,
    ),
    ReconciliationCheck(
        "Background work delivered",
        f"Every outbox entry is handed to the broker within {OUTBOX_LATE_AFTER.seconds // 60} minutes.",
        _late_outbox_messages,
    ),
]
