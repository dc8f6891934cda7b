"""Flight claims web service for partners: search coupons by ticket, submit a claim, read it, approve or reject it."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty import idempotency
from loyalty.api_input import DepthLimitedJSONParser
from loyalty.lifecycle.api import (
    ERROR_400,
    PROBLEM_403,
    PROBLEM_409,
    PROBLEM_422,
    DecisionAPIView,
    DecisionSerializer,
    ReasonedDecisionSerializer,
    key_problem,
)
from loyalty.models import Program
from loyalty.permissions import require
from loyalty.selectors import membership_by_number
from retro.api.claims import IDEMPOTENCY_HEADER
from retro.api.transactions import MAX_BATCH_ROWS, ProgramCodeField, RejectedRowSerializer, rejected_row
from retro.flights import rules, services
from retro.flights.decisions import FLIGHT_CLAIM_APPROVALS
from retro.flights.imports import FLIGHTS
from retro.imports.services import import_api_batch
from retro.models import Flight, FlightClaim
from retro.models.flights import MAX_COUPONS

TAGS = ["Flight claims"]


class FlightSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flight
        fields = [
            "ticket_number", "coupon_number", "pnr", "operating_carrier", "marketing_carrier", "flight_number",
            "flight_date", "origin", "destination", "cabin", "booking_class", "passenger_name", "distance", "flown",
        ]  # fmt: skip


class FlightClaimSerializer(serializers.ModelSerializer):
    membership_number = serializers.CharField(source="membership.membership_number")
    status = serializers.CharField()

    class Meta:
        model = FlightClaim
        fields = [
            "number", "membership_number", "status", "ticket_number", "coupon_number", "carrier", "flight_number",
            "flight_date", "origin", "destination", "cabin", "booking_class", "distance", "passenger_name",
            "manual_entry", "name_match", "name_score", "name_message", "estimated_miles", "valued_on",
            "submitted_at", "decided_at", "reason", "member_message",
        ]  # fmt: skip


class FlightClaimSubmitSerializer(serializers.Serializer):
    membership_number = serializers.CharField(max_length=30)
    ticket_number = serializers.CharField(max_length=20, help_text="13 digits.")
    coupon_numbers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_COUPONS), min_length=1, max_length=MAX_COUPONS
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_membership_number(self, value):
        membership = membership_by_number(value.strip())
        if membership is None:
            raise serializers.ValidationError("No membership has this number.")
        self.context["membership"] = membership
        return value

    def validate_ticket_number(self, value):
        error = rules.ticket_number_error(value)
        if error:
            raise serializers.ValidationError(error)
        return rules.clean_ticket_number(value)


class FlightSearchView(APIView):
    permission_classes = [require("retro.view_flight")]

    @extend_schema(
        tags=TAGS,
        summary="Search the feed's flights by ticket number",
        parameters=[OpenApiParameter("ticket", str, required=True, description="13 digits.")],
        responses={200: FlightSerializer(many=True), 400: ERROR_400},
    )
    def get(self, request):
        error = rules.ticket_number_error(request.query_params.get("ticket", ""))
        if error:
            return Response({"ticket": [error]}, status=status.HTTP_400_BAD_REQUEST)
        coupons = services.find_coupons(ticket_number=request.query_params["ticket"])
        return Response(FlightSerializer(coupons, many=True).data)


class FlightClaimSubmitView(APIView):
    permission_classes = [require("retro.add_flightclaim")]
    parser_classes = [DepthLimitedJSONParser]  # a list of coupon numbers: JSON, as the schema says

    @extend_schema(
        tags=TAGS,
        summary="Claim coupons of a ticket for a member",
        description="One pending claim per coupon, all or none; each waits in the Flights Approval queue.",
        parameters=[IDEMPOTENCY_HEADER],
        request=FlightClaimSubmitSerializer,
        responses={201: FlightClaimSerializer(many=True), 400: ERROR_400, 409: PROBLEM_409, 422: PROBLEM_422},
    )
    def post(self, request):
        try:
            code, body = idempotency.respond_once(
                user=request.user,
                scope="retro.submit_flight_claim",
                key=request.headers.get(idempotency.HEADER),
                payload=request.data,
                respond=lambda: self.submit(request),
            )
        except idempotency.KeyProblem as problem:
            return key_problem(problem)
        return Response(body, status=code)

    def submit(self, request):
        body = FlightClaimSubmitSerializer(data=request.data)
        if not body.is_valid():
            return status.HTTP_400_BAD_REQUEST, body.errors
        data = body.validated_data
        try:
            claims = services.submit_flight_claim(
                membership=body.context["membership"], ticket_number=data["ticket_number"],
                coupon_numbers=data["coupon_numbers"], submitted_by=request.user, channel=FlightClaim.Channel.API,
                note=data["note"],
            )  # fmt: skip
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors = {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
                return status.HTTP_400_BAD_REQUEST, errors
            return status.HTTP_400_BAD_REQUEST, {"non_field_errors": error.messages}
        return status.HTTP_201_CREATED, FlightClaimSerializer(claims, many=True).data


class FlightClaimDetailView(APIView):
    permission_classes = [require("retro.view_flightclaim")]

    @extend_schema(tags=TAGS, summary="Read a flight claim", responses={200: FlightClaimSerializer})
    def get(self, request, number):
        claim = get_object_or_404(FlightClaim.objects.select_related("membership"), number=number)
        return Response(FlightClaimSerializer(claim).data)


class _FlightClaimDecisionView(DecisionAPIView):
    permission_classes = [require("retro.approve_flightclaim")]
    policy = FLIGHT_CLAIM_APPROVALS

    def get_object(self, request, number):
        return get_object_or_404(FlightClaim, number=number)

    def serialize(self, request, claim):
        return FlightClaimSerializer(FlightClaim.objects.select_related("membership").get(pk=claim.pk)).data


DECISION_RESPONSES = {200: FlightClaimSerializer, 400: ERROR_400, 403: PROBLEM_403, 409: PROBLEM_409}


class FlightClaimApproveView(_FlightClaimDecisionView):
    decision = "approve"

    @extend_schema(
        tags=TAGS,
        summary="Approve a pending flight claim",
        description="Posts the Flight Activity, valued on the flight date. The submitter cannot approve their own "
        "claim; a claim worth more miles than the caller's approval limit is refused (403); 409 once decided.",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, number):
        return super().post(request, number=number)


class FlightClaimRejectView(_FlightClaimDecisionView):
    decision = "reject"

    @extend_schema(
        tags=TAGS,
        summary="Reject a pending flight claim",
        description="The reason is required and kept; `message`, optional, is what the member is e-mailed.",
        request=ReasonedDecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, number):
        return super().post(request, number=number)


class FlightBatchSerializer(serializers.Serializer):
    program = ProgramCodeField(slug_field="code", queryset=Program.objects.all())
    flights = serializers.ListField(
        child=serializers.DictField(),
        allow_empty=False,
        max_length=MAX_BATCH_ROWS,
        help_text=(
            "Up to 10,000 flown coupons: ticket_number (13 digits), coupon_number (1-4), operating_carrier, "
            "flight_number, flight_date (YYYY-MM-DD), origin, destination (IATA), distance (miles); optional pnr, "
            "marketing_carrier, cabin, booking_class, passenger_name (SURNAME/GIVENNAMES TITLE), flown (yes/no)."
        ),
    )


class FlightBatchResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Coupons added to the feed.")
    duplicates = serializers.IntegerField(help_text="Coupons already in the feed: skipped.")
    rejected = RejectedRowSerializer(many=True)


class FlightBatchView(APIView):
    permission_classes = [require("retro.add_flight")]
    parser_classes = [DepthLimitedJSONParser]

    @extend_schema(
        tags=TAGS,
        summary="Import a batch of flown coupons (the departure-control feed)",
        description="Good rows are published together; coupons already in the feed count as duplicates, so posting "
        "the same batch again adds nothing; bad rows come back with position, field and reason. 400 with the same "
        "body when every row was rejected.",
        request=FlightBatchSerializer,
        responses={
            200: FlightBatchResultSerializer,
            # Two bodies share the status (as for retro transactions): the result when every row was rejected,
            # or DRF's field errors when the request itself is malformed.
            400: OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="Every row was rejected (the body of a 200), or field errors of a malformed request.",
            ),
        },
    )
    def post(self, request):
        body = FlightBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        batch = import_api_batch(
            program=body.validated_data["program"], rows=body.validated_data["flights"], started_by=request.user,
            kind=FLIGHTS,
        )  # fmt: skip
        result = {
            "imported": batch.rows_imported,
            "duplicates": batch.rows_duplicate,
            "rejected": [rejected_row(error) for error in batch.errors if error.get("row") is not None],
        }
        taken = batch.rows_imported + batch.rows_duplicate
        answer = status.HTTP_200_OK if taken or not batch.rows_rejected else status.HTTP_400_BAD_REQUEST
        return Response(FlightBatchResultSerializer(result).data, status=answer)
