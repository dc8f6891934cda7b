"""The business side of /metrics: gauges read from the database at each scrape (a prometheus_client Collector).

Read at scrape time, not counted in the process: every gunicorn worker answers the same numbers, and
nothing is lost on a restart. Each gauge is one or two indexed aggregate queries. The core reads the
approval queues (every registered ApprovalPolicy), the outbox, the scheduled jobs' runs and the last
reconciliation; apps add theirs (plugins.BusinessGauge), e.g. failed postings.
"""

import logging

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from loyalty import plugins
from loyalty.background import oldest_waiting_since, waiting_count
from loyalty.lifecycle.decisions import POLICIES
from loyalty.models import JobRun, ReconciliationRun

logger = logging.getLogger(__name__)


def _age(moment, now):
    return max(0.0, (now - moment).total_seconds()) if moment else 0.0


def approval_gauges(now):
    pending = GaugeMetricFamily(
        "loyalty_approvals_pending", "Items waiting for a supervisor's decision, per approval queue.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "loyalty_approvals_oldest_pending_age_seconds",
        "How long the oldest item of each approval queue has waited (0 when the queue is empty).",
        labels=["queue"],
    )
    for lifecycle, policy in sorted(POLICIES.items()):
        aggregates = {"count": Count("pk")}
        if policy.waiting_since:
            aggregates["since"] = Min(policy.waiting_since)
        found = policy.pending().order_by().aggregate(**aggregates)
        pending.add_metric([lifecycle], found["count"])
        if policy.waiting_since:
            oldest.add_metric([lifecycle], _age(found["since"], now))
    return [pending, oldest]


def outbox_gauges(now):
    return [
        GaugeMetricFamily(
            "loyalty_outbox_waiting_messages", "Background tasks recorded and not yet handed to the broker.",
            value=waiting_count(),
        ),
        GaugeMetricFamily(
            "loyalty_outbox_oldest_waiting_age_seconds",
            "How long the oldest waiting outbox message has waited: the relay's lag (0 when none waits).",
            value=_age(oldest_waiting_since(), now),
        ),
    ]  # fmt: skip


def job_gauges(now):
    families = {
        "success": GaugeMetricFamily(
            "loyalty_job_last_run_success", "1 if the job's last finished run succeeded, else 0.", labels=["job"]
        ),
        "seconds": GaugeMetricFamily(
            "loyalty_job_last_run_duration_seconds", "How long the job's last finished run took.", labels=["job"]
        ),
        "finished": GaugeMetricFamily(
            "loyalty_job_last_run_timestamp_seconds", "When the job's last run finished (Unix time).", labels=["job"]
        ),
        "succeeded": GaugeMetricFamily(
            "loyalty_job_last_success_timestamp_seconds",
            "When the job last finished successfully (Unix time).",
            labels=["job"],
        ),
    }
    finished = JobRun.objects.filter(finished_at__isnull=False)
    for run in finished.order_by("job", "-finished_at", "-id").distinct("job"):
        families["success"].add_metric([run.job], 1 if run.succeeded else 0)
        families["seconds"].add_metric([run.job], run.seconds or 0)
        families["finished"].add_metric([run.job], run.finished_at.timestamp())
    for run in finished.filter(succeeded=True).order_by("job", "-finished_at", "-id").distinct("job"):
        families["succeeded"].add_metric([run.job], run.finished_at.timestamp())
    return list(families.values())


def reconciliation_gauges(now):
    run = ReconciliationRun.objects.filter(finished_at__isnull=False).order_by("-finished_at", "-id").first()
    if run is None:
        return []
    return [
        GaugeMetricFamily(
            "loyalty_reconciliation_violations", "Violations found by the last finished reconciliation.",
            value=run.violations,
        ),
        GaugeMetricFamily(
            "loyalty_reconciliation_last_run_timestamp_seconds", "When the last reconciliation finished (Unix time).",
            value=run.finished_at.timestamp(),
        ),
    ]  # fmt: skip


def plugin_gauges(failed):
    """The apps' gauges; one that fails is named in `failed`, the others are still shown."""
    families = {}
    for gauge in plugins.BUSINESS_GAUGES:
        try:
            samples = [([str(v) for v in labels], value) for labels, value in gauge.read()]
        except Exception:
            logger.exception("metrics: %s could not be read", gauge.key)
            failed.add_metric([gauge.key], 1)
            continue
        family = families.get(gauge.name)
        if family is None:
            family = families[gauge.name] = GaugeMetricFamily(gauge.name, gauge.documentation, labels=gauge.labels)
        for labels, value in samples:
            family.add_metric(labels, value)
    return list(families.values())


CORE_GAUGES = [approval_gauges, outbox_gauges, job_gauges, reconciliation_gauges]


class BusinessCollector:
    """Reads every business gauge when Prometheus scrapes; a failing one is left out and named, not fatal."""

    def collect(self):
        now = timezone.now()
        failed = GaugeMetricFamily(
            "loyalty_business_gauges_failed", "Business gauges that could not be read at this scrape (see the log).",
            labels=["gauge"],
        )  # fmt: skip
        for read in CORE_GAUGES:
            try:
                families = read(now)
            except Exception:
                logger.exception("metrics: %s could not be read", read.__name__)
                failed.add_metric([read.__name__], 1)
                continue
            yield from families
        yield from plugin_gauges(failed)
        yield failed
