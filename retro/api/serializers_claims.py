"""Serializers of the retro claims API: a claim as partners read it, a submission, a decision."""

from rest_framework import serializers

from loyalty.selectors import membership_by_number
from retro.models import RetroClaim, RetroClaimStatus
from retro.selectors import claim_points


class RetroClaimSerializer(serializers.ModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    program = serializers.CharField(source="program.code", read_only=True)
    membership_number = serializers.CharField(source="membership.membership_number", read_only=True)
    member_number = serializers.CharField(source="membership.member.member_number", read_only=True)
    # null once the submitting user is deleted (SET_NULL), and until the claim matches: the schema says so.
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True, default=None, allow_null=True)
    matched_transaction = serializers.CharField(
        source="matched_transaction.source_id", read_only=True, default=None, allow_null=True
    )
    points = serializers.SerializerMethodField(
        help_text="Spendable points the claim earned and still holds: 0 once it is reversed."
    )

    class Meta:
        model = RetroClaim
        fields = [
            "number", "status", "status_display", "program", "membership_number", "member_number", "channel",
            "transaction_type", "transaction_date", "key_values", "submitted_at", "submitted_by",
            "matched_transaction", "activity", "points", "failure_reason", "attempt_count", "eligible_until",
            "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_points(self, claim) -> int:
        return 0 if claim.status == RetroClaimStatus.REVERSED else claim_points(claim)


class RetroClaimSubmitSerializer(serializers.Serializer):
    membership_number = serializers.CharField(max_length=30)
    transaction_type = serializers.CharField(max_length=12, default="purchase")
    transaction_date = serializers.DateField(
        required=False, help_text="Needed when the program's key does not include the transaction date."
    )
    key_values = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=255),
        help_text='The key fields by name, e.g. {"location_code": "PAR01", "reference": "R-123", "amount": "12.50"}; '
        'named extra attributes as "attr_<name>".',
    )

    def validate_membership_number(self, value):
        membership = membership_by_number(value)
        if membership is None:
            raise serializers.ValidationError("No membership has this number.")
        self.context["membership"] = membership
        return value
