"""Retro claims web service (seed 001's WS calls, seed 003's request/approve): submit, read, list, decide."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.models import Membership
from retro import services
from retro.api.serializers_claims import RetroClaimDecisionSerializer, RetroClaimSerializer, RetroClaimSubmitSerializer
from retro.models import RetroClaim
from retro.selectors import retro_claims_visible_to

TAGS = ["Retro claims"]
SUBMIT_FIELDS = {"membership_number", "transaction_type", "transaction_date"}


def require(permission):
    """A DRF permission class for one Django codename (anonymous callers get a 401, others a 403)."""

    class HasPermission(BasePermission):
        message = f"Your account lacks the permission {permission}."

        def has_permission(self, request, view):
            return bool(request.user and request.user.is_authenticated and request.user.has_perm(permission))

    HasPermission.__name__ = f"Has_{permission.replace('.', '_')}"
    return HasPermission


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


ERROR_400 = OpenApiResponse(description="Field errors, or the reason the program's settings refuse the request.")


class RetroClaimSubmitView(APIView):
    permission_classes = [require("retro.add_retroclaim")]

    @extend_schema(
        tags=TAGS,
        summary="Submit a retro claim",
        description="Records the claim (channel: web service) and matches it at once. The claim's status tells the "
        "outcome: matched, outstanding, already_claimed, transaction_failed, pending_approval or not_matched.",
        request=RetroClaimSubmitSerializer,
        responses={201: RetroClaimSerializer, 400: ERROR_400},
    )
    def post(self, request):
        submission = RetroClaimSubmitSerializer(data=request.data)
        submission.is_valid(raise_exception=True)
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
            body = service_errors(error, key_names=set(data["key_values"]))
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        claim = retro_claims_visible_to(request.user).get(pk=claim.pk)
        return Response(RetroClaimSerializer(claim).data, status=status.HTTP_201_CREATED)


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
        membership = get_object_or_404(Membership, membership_number=self.kwargs["membership_number"])
        return retro_claims_visible_to(self.request.user).filter(membership=membership).order_by("-submitted_at", "-id")

    @extend_schema(tags=TAGS, summary="List a membership's retro claims", description="Newest first, paginated.")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class _RetroClaimDecisionView(APIView):
    permission_classes = [require("retro.approve_retroclaim")]
    service = None

    def post(self, request, number):
        claim = get_object_or_404(retro_claims_visible_to(request.user), number=number)
        decision = RetroClaimDecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        try:
            type(self).service(claim=claim, by=request.user, reason=decision.validated_data["reason"])
        except ValidationError as error:
            return Response(service_errors(error), status=status.HTTP_400_BAD_REQUEST)
        claim = retro_claims_visible_to(request.user).get(pk=claim.pk)
        return Response(RetroClaimSerializer(claim).data)


class RetroClaimApproveView(_RetroClaimDecisionView):
    service = staticmethod(services.approve_retro_claim)

    @extend_schema(
        tags=TAGS,
        summary="Approve a pending retro claim",
        description="Posts the claim's activity, valued on the transaction's own date (seed 003).",
        request=RetroClaimDecisionSerializer,
        responses={200: RetroClaimSerializer, 400: ERROR_400},
    )
    def post(self, request, number):
        return super().post(request, number)


class RetroClaimRejectView(_RetroClaimDecisionView):
    service = staticmethod(services.reject_retro_claim)

    @extend_schema(
        tags=TAGS,
        summary="Reject a pending retro claim",
        description="The claim becomes Not Matched; a reason is required.",
        request=RetroClaimDecisionSerializer,
        responses={200: RetroClaimSerializer, 400: ERROR_400},
    )
    def post(self, request, number):
        return super().post(request, number)
