"""Retro transactions API: batch import from partner feeds and search of the pool (seed 003)."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Program
from loyalty.permissions import require
from retro.filters_transactions import RetroTransactionFilter
from retro.imports.services import import_transaction_batch
from retro.models import RetroTransaction

MAX_BATCH_ROWS = 10_000


class TransactionBatchSerializer(serializers.Serializer):
    program = serializers.SlugRelatedField(slug_field="code", queryset=Program.objects.all())
    transactions = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=MAX_BATCH_ROWS,
        help_text=(
            "Up to 10,000 objects with source_id (required, unique per program), transaction_date (YYYY-MM-DD) "
            "and transaction_time (HH:MM) or occurred_at, local to the program; transaction_type, location_code, "
            "reference, amount, currency, register_id, card_last_four and attr_<name> extra attributes."
        ),
    )


class RejectedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="1-based position in `transactions`.")
    reason = serializers.CharField()


class TransactionBatchResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Rows whose source_id the program already had: skipped.")
    rejected = RejectedRowSerializer(many=True)


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
            "Good rows go into the pool; rows whose source_id is already there count as duplicates (posting "
            "the same batch again adds nothing); bad rows come back with their position and the reason."
        ),
        request=TransactionBatchSerializer,
        responses={200: TransactionBatchResultSerializer},
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
            "duplicates": batch.rows_duplicate,
            "rejected": [{"row": e["row"], "reason": e["reason"]} for e in batch.errors],
        }
        return Response(TransactionBatchResultSerializer(result).data, status=status.HTTP_200_OK)


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
