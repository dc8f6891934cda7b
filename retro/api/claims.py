"""Retro claims web service (seed 001's WS calls, seed 003's request/approve): submit, read, list, decide."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty import idempotency
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
from loyalty.permissions import require
from loyalty.selectors import membership_by_number
from retro import services
from retro.api.serializers_claims import RetroClaimSerializer, RetroClaimSubmitSerializer
from retro.decisions import RETRO_CLAIM_APPROVALS
from retro.models import RetroClaim
from retro.selectors import retro_claims_visible_to

TAGS = ["Retro claims"]
SUBMIT_400 = OpenApiResponse(description="Field errors, or the reason the program's settings refuse the request.")
SUBMIT_FIELDS = {"membership_number", "transaction_type", "transaction_date"}


def service_errors(error, *, key_names=()):
    """A service's ValidationError as DRF field errors: key parts under key_values, the rest at top level."""
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": error.messages}
    body = {}
    for name, messages in error.message_dict.items():
        if name == "__all__":
            body.setdefault("non_field_errors", []).extend(messages)
        elif name in key_names or name not in SUBMIT_FIELDS | {"reason"}:
            body.setdefault("key_values", {})[name] = messages
        else:
            body[name] = messages
    return body




IDEMPOTENCY_HEADER = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    description="Any unique text (e.g. a UUID) per claim: a retry with the same key and body gets the first "
    "response back and submits nothing again; the same key with another body answers 422; while the first "
    "request still runs, 409.",
)


class RetroClaimSubmitView(APIView):
    permission_classes = [require("retro.add_retroclaim")]

    @extend_schema(
        tags=TAGS,
        summary="Submit a retro claim",
        description="Records the claim (channel: web service) and matches it at once. The claim's status tells the "
        "outcome: matched, outstanding, already_claimed, transaction_failed, pending_approval or not_matched.",
        parameters=[IDEMPOTENCY_HEADER],
        request=RetroClaimSubmitSerializer,
        examples=[
            OpenApiExample(
                "A Marché Plus receipt (demo data)",
                request_only=True,
                value={
                    "membership_number": "MP0001126481",
                    "transaction_type": "purchase",
                    "key_values": {
                        "location_code": "S101",
                        "transaction_date": "2026-11-20",
                        "reference": "S101-004211",
                        "amount": "84.37",
                    },
                },
            )
        ],
        responses={201: RetroClaimSerializer, 400: SUBMIT_400, 409: PROBLEM_409, 422: PROBLEM_422},
    )
    def post(self, request):
        try:
            code, body = idempotency.respond_once(
                user=request.user,
                scope="retro.submit_claim",
                key=request.headers.get(idempotency.HEADER),
                payload=request.data,
                respond=lambda: self.submit(request),
            )
        except idempotency.KeyProblem as problem:
            return key_problem(problem)
        return Response(body, status=code)

    def submit(self, request):
        """(status, body) of one submission."""
        submission = RetroClaimSubmitSerializer(data=request.data)
        if not submission.is_valid():
            return status.HTTP_400_BAD_REQUEST, submission.errors
        data = submission.validated_data
        try:
            claim = services.submit_retro_claim(
                membership=submission.context["membership"],
                channel=RetroClaim.Channel.API,
                submitted_by=request.user,
                key_values=data["key_values"],
                transaction_type=data["transaction_type"],
                transaction_date=data.get("transaction_date"),
            )
        except ValidationError as error:
            return status.HTTP_400_BAD_REQUEST, service_errors(error, key_names=set(data["key_values"]))
        claim = retro_claims_visible_to(request.user).get(pk=claim.pk)
        return status.HTTP_201_CREATED, RetroClaimSerializer(claim).data


class RetroClaimDetailView(generics.RetrieveAPIView):
    permission_classes = [require("retro.view_retroclaim")]
    serializer_class = RetroClaimSerializer
    lookup_field = "number"

    def get_queryset(self):
        return retro_claims_visible_to(self.request.user)

    @extend_schema(tags=TAGS, summary="Read a retro claim")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MemberRetroClaimListView(generics.ListAPIView):
    permission_classes = [require("retro.view_retroclaim")]
    serializer_class = RetroClaimSerializer

    def get_queryset(self):
        membership = membership_by_number(self.kwargs["membership_number"])
        if membership is None:
            raise Http404("No membership has this number.")
        return retro_claims_visible_to(self.request.user).filter(membership=membership).order_by("-submitted_at", "-id")

    @extend_schema(tags=TAGS, summary="List a membership's retro claims", description="Newest first, paginated.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _RetroClaimDecisionView(DecisionAPIView):
    permission_classes = [require("retro.approve_retroclaim")]
    policy = RETRO_CLAIM_APPROVALS

    def get_object(self, request, number):
        return get_object_or_404(retro_claims_visible_to(request.user), number=number)

    def serialize(self, request, claim):
        return RetroClaimSerializer(retro_claims_visible_to(request.user).get(pk=claim.pk)).data


DECISION_RESPONSES = {200: RetroClaimSerializer, 400: ERROR_400, 403: PROBLEM_403, 409: PROBLEM_409}


class RetroClaimApproveView(_RetroClaimDecisionView):
    decision = "approve"

    @extend_schema(
        tags=TAGS,
        summary="Approve a pending retro claim",
        description="Posts the claim's activity, valued on the transaction's own date (seed 003). The submitter "
        "cannot approve their own claim, and a claim worth more than the caller's approval limit is refused (403).",
        request=DecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, number):
        return super().post(request, number=number)


class RetroClaimRejectView(_RetroClaimDecisionView):
    decision = "reject"

    @extend_schema(
        tags=TAGS,
        summary="Reject a pending retro claim",
        description="The claim becomes Rejected and its transaction returns to the pool; a reason is required. "
        "`message`, optional, is e-mailed to the member (the reason stays internal).",
        request=ReasonedDecisionSerializer,
        responses=DECISION_RESPONSES,
    )
    def post(self, request, number):
        return super().post(request, number=number)
