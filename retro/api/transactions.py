"""Retro transactions API: batch import from partner feeds and search of the pool (seed 003)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Program
from loyalty.permissions import require
from retro.filters_transactions import RetroTransactionFilter
from retro.imports.rows import unstorable
from retro.imports.services import import_transaction_batch
from retro.models import RetroTransaction

MAX_BATCH_ROWS = 10_000


class ProgramCodeField(serializers.SlugRelatedField):
    """A program by its code; a code PostgreSQL cannot even compare (a NUL) is just an invalid one."""

    def to_internal_value(self, data):
        if isinstance(data, str) and unstorable(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class TransactionBatchSerializer(serializers.Serializer):
    program = ProgramCodeField(slug_field="code", queryset=Program.objects.all())
    transactions = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=MAX_BATCH_ROWS,
        help_text=(
            "Up to 10,000 objects with source_id (required, unique per program), transaction_date (YYYY-MM-DD) "
            "and transaction_time (HH:MM) or occurred_at, local to the program; transaction_type, location_code, "
            "reference, amount, currency, register_id, card_last_four, attr_<name> extra attributes (at most 20), "
            "and membership_number for a member's own transaction (credited to the member, not pooled)."
        ),
    )


class RejectedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based position in `transactions`.")
    field = serializers.CharField(help_text="The field at fault, when one is (empty for the row as a whole).")
    reason = serializers.CharField()
    original = serializers.JSONField(
        help_text="The row as it was sent (characters that cannot be stored shown as U+FFFD, long values cut)."
    )


class TransactionBatchResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Rows put in the retro pool.")
    posted = serializers.IntegerField(help_text="Rows with a membership_number, credited to that member.")
    duplicates = serializers.IntegerField(
        help_text="Rows whose source_id the program already had, or already posted to the member: skipped."
    )
    rejected = RejectedRowSerializer(many=True)
    claims_matched = serializers.IntegerField(help_text="Waiting (Outstanding) claims the new transactions matched.")


class RetroTransactionSerializer(serializers.ModelSerializer):
    program = serializers.SlugRelatedField(slug_field="code", read_only=True)
    claimed = serializers.SerializerMethodField()

    class Meta:
        model = RetroTransaction
        fields = [
            "id",
            "program",
            "transaction_type",
            "source_id",
            "location_code",
            "occurred_at",
            "occurred_on",
            "reference",
            "amount",
            "currency",
            "register_id",
            "card_last_four",
            "attributes",
            "expires_on",
            "claimed",
        ]

    def get_claimed(self, obj) -> bool:
        return obj.claimed_by_id is not None


class TransactionBatchView(APIView):
    permission_classes = [require("retro.add_retrotransaction")]

    @extend_schema(
        operation_id="retro_transactions_batch_import",
        summary="Import a batch of retro transactions",
        description=(
            "Good rows go into the pool, or to their member when they carry a membership_number; rows already "
            "there count as duplicates (posting the same batch again adds nothing); bad rows come back with their "
            "position, field, reason and values. The good rows are published together, then waiting claims they "
            "answer are matched at once. 200 when any row went in or was already there; 400 with the same body "
            "when every row was rejected."
        ),
        request=TransactionBatchSerializer,
        responses={
            200: TransactionBatchResultSerializer,
            # Two bodies share the status, so the schema is only "an object": the result when every row was
            # rejected, DRF's field errors when the request itself is malformed.
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description=(
                    "Every row was rejected: the body of a 200 (imported, posted, duplicates, rejected with "
                    "each row's position, field, reason and values, claims_matched). Or field errors: the "
                    "request itself is malformed (no program, no transactions, more than 10,000)."
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "Two purchases",
                request_only=True,
                value={
                    "program": "shop",
                    "transactions": [
                        {
                            "source_id": "POS-1001",
                            "transaction_date": "2023-05-20",
                            "transaction_time": "23:30",
                            "location_code": "PAR01",
                            "reference": "R1001",
                            "amount": "12.50",
                            "currency": "EUR",
                        }
                    ],
                },
            )
        ],
        tags=["retro transactions"],
    )
    def post(self, request):
        serializer = TransactionBatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = import_transaction_batch(
            program=serializer.validated_data["program"],
            transactions=serializer.validated_data["transactions"],
            started_by=request.user,
        )
        result = {
            "imported": batch.rows_imported,
            "posted": batch.rows_posted,
            "duplicates": batch.rows_duplicate,
            "rejected": [rejected_row(error) for error in batch.errors if error.get("row") is not None],
            "claims_matched": batch.claims_matched,
        }
        taken = batch.rows_imported + batch.rows_posted + batch.rows_duplicate
        answer = status.HTTP_200_OK if taken or not batch.rows_rejected else status.HTTP_400_BAD_REQUEST
        return Response(TransactionBatchResultSerializer(result).data, status=answer)


def rejected_row(error):
    original = error.get("original")
    if isinstance(original, list) and all(isinstance(pair, list) and len(pair) == 2 for pair in original):
        original = dict(original)
    return {"row": error["row"], "field": error.get("field", ""), "reason": error["reason"], "original": original}


class RetroTransactionSearchView(generics.ListAPIView):
    permission_classes = [require("retro.view_retrotransaction")]
    serializer_class = RetroTransactionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = RetroTransactionFilter
    queryset = RetroTransaction.objects.select_related("program").order_by("-occurred_at", "-id")

    @extend_schema(
        operation_id="retro_transactions_search",
        summary="Search retro transactions",
        description=(
            "Find a program's transactions by key fields (location, date, reference, amount…) or a local date "
            "range, newest first. Giving every field of the program's key makes it a single index lookup."
        ),
        tags=["retro transactions"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
