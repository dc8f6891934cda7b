"""The exchanges app's models: redemptions and their points operations; manual-handling cases."""

from exchanges.models.cases import (
    CaseCorrection,
    CaseNote,
    CaseStatus,
    CorrectionStatus,
    FailedStep,
    ManualHandlingCase,
)
from exchanges.models.redemptions import (
    REFUNDABLE,
    REFUNDED_ANY,
    AwardConversionRatio,
    PartnerClient,
    PointsOperation,
    Redemption,
    RedemptionStatus,
    RedemptionTicket,
    RefundPolicy,
)

__all__ = [
    "REFUNDABLE", "REFUNDED_ANY", "AwardConversionRatio", "CaseCorrection", "CaseNote", "CaseStatus",
    "CorrectionStatus", "FailedStep", "ManualHandlingCase", "PartnerClient", "PointsOperation", "Redemption",
    "RedemptionStatus", "RedemptionTicket", "RefundPolicy",
]  # fmt: skip
