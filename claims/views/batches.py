"""Bulk adjustment files waiting for approval: a supervisor other than the one who sent them decides."""

import django_filters

from claims.decisions import ADJUSTMENT_BATCH_APPROVALS
from claims.models import AdjustmentBatch, AdjustmentBatchStatus
from loyalty.filters import style_fields
from loyalty.lifecycle.queue import DecisionQueueView


class AdjustmentBatchFilter(django_filters.FilterSet):
    submitter = django_filters.CharFilter(
        field_name="submitted_by__username", lookup_expr="iexact", label="Sent by", max_length=150
    )

    class Meta:
        model = AdjustmentBatch
        fields = ["program"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self.form)

    @property
    def qs(self):
        return super().qs.order_by("submitted_at", "id")


class AdjustmentBatchQueue(DecisionQueueView):
    policy = ADJUSTMENT_BATCH_APPROVALS
    permission_required = "claims.approve_adjustmentbatch"
    title = "Adjustment files"
    intro = (
        "Bulk adjustment files waiting for approval. Approving posts every row of the file once, each with its "
        "adjustment code as the reason; rows the import refused are in the file's error report and are not posted. "
        "You cannot decide a file you sent, nor approve more points than your role's limit or daily cap."
    )
    filterset_class = AdjustmentBatchFilter
    columns = ["File", "Sent", "Program", "Rows", "Refused rows", "Points"]
    numeric_columns = ("Rows", "Refused rows", "Points")
    row_template = "claims/partials/batch_row.html"

    def pending(self):
        return AdjustmentBatch.objects.filter(status=AdjustmentBatchStatus.PENDING).select_related(
            "program", "submitted_by", "import_batch"
        )
