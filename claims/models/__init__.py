"""Membership claims (seed 002): configuration, the claims and their notes, stays, limited adjustments."""

from claims.models.adjustments import AdjustmentBatch, AdjustmentBatchStatus, AdjustmentCode, AdjustmentLine
from claims.models.claims import ClaimDecision, ClaimNote, ClaimSource, ClaimStatus, MembershipClaim, RecordType
from claims.models.config import ClaimOrigin, ClaimSettings, ClaimType, NoteActivityType
from claims.models.stays import Stay, StayException, StayStatus

__all__ = [
    "AdjustmentBatch",
    "AdjustmentBatchStatus",
    "AdjustmentCode",
    "AdjustmentLine",
    "ClaimDecision",
    "ClaimNote",
    "ClaimOrigin",
    "ClaimSettings",
    "ClaimSource",
    "ClaimStatus",
    "ClaimType",
    "MembershipClaim",
    "NoteActivityType",
    "RecordType",
    "Stay",
    "StayException",
    "StayStatus",
]
