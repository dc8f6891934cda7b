"""Loyalty core models: programs and members, tiers, the ledger, earning rules."""

from loyalty.models import history as _history  # noqa: F401 - registers the roles' history
from loyalty.models.approvals import ApprovalLimit
from loyalty.models.idempotency import IdempotencyKey
from loyalty.models.jobs import JobRun
from loyalty.models.ledger import Activity, LedgerEntry, Metric
from loyalty.models.members import Location, Member, Membership, Program, normalise_search_text
from loyalty.models.outbox import OutboxMessage
from loyalty.models.reconciliation import ReconciliationFinding, ReconciliationRun
from loyalty.models.rules import EarningRule, EarningRuleSet
from loyalty.models.tiers import Tier, TierPeriod

__all__ = [
    "Activity",
    "ApprovalLimit",
    "EarningRule",
    "EarningRuleSet",
    "IdempotencyKey",
    "JobRun",
    "LedgerEntry",
    "Location",
    "Member",
    "Membership",
    "Metric",
    "OutboxMessage",
    "Program",
    "ReconciliationFinding",
    "ReconciliationRun",
    "Tier",
    "TierPeriod",
    "normalise_search_text",
]
