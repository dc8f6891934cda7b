"""The decision API view every approval lifecycle shares: approve or reject one object through the decision service.

Answers: 200 with the object as it now stands; 400 with field errors (a
reason is required to reject); 403 with a problem-details body when the user
may not decide it (the maker, or the value is above the user's approval
limit); 409 with a problem-details body (RFC 9457) when the object is no
longer pending, so a client that retries or lost a race knows nothing was done.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.lifecycle.decisions import NoLongerPending, NotAllowedToDecide, decide

PROBLEM_CONTENT_TYPE = "application/problem+json"

ProblemSerializer = inline_serializer(
    "Problem",
    {
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
    },
)
PROBLEM_403 = OpenApiResponse(ProblemSerializer, description="The user may not take this decision on this object.")
PROBLEM_409 = OpenApiResponse(
    ProblemSerializer, description="The object is no longer pending, or the request is still running: nothing was done."
)
PROBLEM_422 = OpenApiResponse(ProblemSerializer, description="The Idempotency-Key was used with another request body.")
ERROR_400 = OpenApiResponse(description="Field errors, e.g. a missing reason.")


def problem_response(*, code, http_status, title, detail):
    """An RFC 9457 problem-details response."""
    body = {
        "type": f"urn:loyalty:problem:{code.replace('_', '-')}",
        "title": title,
        "status": http_status,
        "detail": detail,
        "code": code,
    }
    return Response(body, status=http_status, content_type=PROBLEM_CONTENT_TYPE)


def problem(error, *, http_status, title):
    """A refused decision (a DecisionRefused) as a problem-details response."""
    detail = " ".join(error.messages)
    return problem_response(code=error.code or "refused", http_status=http_status, title=title, detail=detail)


def key_problem(problem):
    """An idempotency key that cannot be used (loyalty.idempotency.KeyProblem) as a problem-details response."""
    titles = {409: "The first request with this key is still running", 422: "This key was used for another request"}
    title = titles.get(problem.status, "This idempotency key cannot be used")
    return problem_response(code=problem.code, http_status=problem.status, title=title, detail=str(problem))


class DecisionSerializer(serializers.Serializer):
    """A decision that needs no reason (approve): one may be given, kept in the history."""

    reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Kept in the history (internal)."
    )
    message = serializers.CharField(
        max_length=1000, required=False, allow_blank=True, default="", help_text="What the customer is told."
    )


class ReasonedDecisionSerializer(DecisionSerializer):
    """A decision that needs its reason (reject, reverse)."""

    reason = serializers.CharField(max_length=500, help_text="Why: kept in the history (internal), required.")


class DecisionAPIView(APIView):
    """Subclass with `policy`, `decision`, `permission_classes`, `get_object()` and `serialize()`."""

    policy = None
    decision = ""

    def get_object(self, request, **kwargs):
        raise NotImplementedError

    def handle_exception(self, exc):
        # A role without the decision's permission gets the problem details its 403 documents, as a maker
        # or an approver over their limit does, not REST framework's bare {"detail": …}.
        if isinstance(exc, exceptions.PermissionDenied):
            return problem_response(code="no_permission", http_status=status.HTTP_403_FORBIDDEN,
                                    title="You may not take this decision", detail=str(exc.detail))  # fmt: skip
        return super().handle_exception(exc)

    def serialize(self, request, obj):
        raise NotImplementedError

    def field_errors(self, error):
        if hasattr(error, "error_dict"):
            return {("non_field_errors" if k == "__all__" else k): v for k, v in error.message_dict.items()}
        return {"non_field_errors": error.messages}

    @classmethod
    def request_serializer(cls):
        """What this decision takes: a reason that is optional, or required (as the policy says)."""
        if cls.policy.decisions[cls.decision].reason_required:
            return ReasonedDecisionSerializer
        return DecisionSerializer

    def post(self, request, **kwargs):
        obj = self.get_object(request, **kwargs)
        body = self.request_serializer()(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            obj = decide(
                self.policy, obj, self.decision, by=request.user, reason=data["reason"], message=data["message"]
            )
        except NoLongerPending as error:
            title = f"This {self.policy.noun} is no longer pending"
            return problem(error, http_status=status.HTTP_409_CONFLICT, title=title)
        except NotAllowedToDecide as error:
            return problem(error, http_status=status.HTTP_403_FORBIDDEN, title="You may not take this decision")
        except ValidationError as error:
            return Response(self.field_errors(error), status=status.HTTP_400_BAD_REQUEST)
        return Response(self.serialize(request, obj))
