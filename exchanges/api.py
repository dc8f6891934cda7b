"""The booking engine's web service (seed 004): quote, authorize/capture/release, refund, eligibility, failures.

A partner client's token sees only its programs' bookings (another's is a 404). Every write takes an
Idempotency-Key; refusals are RFC 9457 problem details with a stable `type`.
"""

import re

from django.conf import settings
from django.db import IntegrityError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from exchanges import quotes, services
from exchanges.authentication import PartnerTokenAuthentication
from exchanges.eligibility import BookingState
from exchanges.errors import ExchangeRefused, NotAllowed
from exchanges.models import PartnerClient, Redemption, RedemptionTicket
from exchanges.serializers import (
    AuthorizeRequestSerializer,
    CaseSerializer,
    EligibilityRequestSerializer,
    EligibilitySerializer,
    FailureRequestSerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
    RedemptionSerializer,
    RefundRequestSerializer,
    RefundSerializer,
    full_refund_request,
    redemption_answer,
    refund_answer,
)
from loyalty import idempotency, selectors
from loyalty.api_input import DepthLimitedJSONParser
from loyalty.lifecycle.api import PROBLEM_CONTENT_TYPE, ProblemSerializer, key_problem, problem_response

TAGS = ["Exchanges"]
IDEMPOTENCY_HEADER = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    required=True,
    description="Required on every write: a unique text (e.g. a UUID) per operation. The same key and body get the "
    "first response back and change nothing; the same key with another body answers 422; while the first request "
    f"runs, 409. Keys are kept {settings.IDEMPOTENCY_KEY_RETENTION_HOURS} hours (never less than 24), then forgotten; "
    "a forgotten key sent again with a write that was already done answers 422 (key_reused), never a second effect.",
)


def _problem(description):
    return OpenApiResponse(ProblemSerializer, description=description)


PROBLEMS = {
    (400, PROBLEM_CONTENT_TYPE): _problem("No Idempotency-Key, or bad amounts (code bad_amount, unknown_ticket)."),
    (403, PROBLEM_CONTENT_TYPE): _problem("Not a partner client, a program it may not use (program_not_allowed), or "
                                          "a refund for another member than the payer (not_original_payer)."),
    (404, PROBLEM_CONTENT_TYPE): _problem("No such booking among the partner's (unknown_redemption)."),
    (409, PROBLEM_CONTENT_TYPE): _problem("The redemption's state does not allow it (wrong_state), or the key's "
                                          "first request is still running (key_in_flight)."),
    (415, PROBLEM_CONTENT_TYPE): _problem("The body is not JSON (unsupported_media_type)."),
    (422, PROBLEM_CONTENT_TYPE): _problem("insufficient_points, over_refund, no_conversion_ratio, or the key was "
                                          "used with another body (key_reused)."),
}  # fmt: skip


def refused(error):
    return problem_response(code=error.code, http_status=error.status, title=error.title, detail=str(error))


def _answer(code, body):
    if isinstance(body, idempotency.KeptText):
        if code < 400:
            # A success is sent as the JSON kept for its key, neither rendered again nor, for a repeat, parsed
            # (the same data; a repeat has the database's spacing and key order).
            return HttpResponse(body.text, status=code, content_type="application/json")
        body = body.data()
    problem = isinstance(body, dict) and str(body.get("type", "")).startswith("urn:loyalty:problem:")
    return Response(body, status=code, content_type=PROBLEM_CONTENT_TYPE if problem else None)


class PartnerView(APIView):
    """Resolves the calling partner client; refuses users that are not one."""

    partner = None
    # A write's: the scope of its Idempotency-Keys (handle), whose kept answer is read with the token.
    idempotency_scope = None
    authentication_classes = [PartnerTokenAuthentication, SessionAuthentication]
    # Bookings carry lists (tickets, per-ticket refunds) that a form cannot: the booking engine speaks JSON,
    # and the schema offers nothing else.
    parser_classes = [DepthLimitedJSONParser]

    def handle_exception(self, exc):
        # A body the API cannot read is a problem like any other refusal (typed, documented), not REST
        # framework's bare {"detail": …}.
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return problem_response(code="unsupported_media_type", http_status=415, title="The body must be JSON",
                                    detail=str(exc.detail))  # fmt: skip
        if isinstance(exc, exceptions.ParseError):
            return problem_response(code="bad_request", http_status=400, title="The body cannot be read",
                                    detail=str(exc.detail))  # fmt: skip
        return super().handle_exception(exc)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        try:  # read with the token (PartnerTokenAuthentication); a signed-in staff session reads it here
            partner = request.user.partner_client
        except (PartnerClient.DoesNotExist, AttributeError):
            partner = None
        self.partner = partner if partner is not None and partner.active else None

    def handle(self, request, work, *, scope=None, **kwargs):
        """Run `work(data)` -> (status, body); a write (`scope`) once per Idempotency-Key."""
        if self.partner is None:
            return refused(NotAllowed("This user is not an active partner client.", code="not_a_partner"))
        if scope is None:
            return _answer(*self.run(request, work))
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return problem_response(
                code="key_missing", http_status=400, title="An Idempotency-Key is required",
                detail=f"Send an {idempotency.HEADER} header with every write.",
            )  # fmt: skip
        # The answer kept for the key, read with the token when the view named this scope (PartnerTokenAuthentication).
        read_for, kept = getattr(request.auth, "kept", (None, idempotency.UNREAD))
        try:
            code, body = idempotency.respond_once(
                user=request.user, scope=scope, key=key, payload={"path": request.path, "body": request.data},
                respond=lambda: self.run(request, work, key=key),
                kept=kept if read_for == (scope, key) else idempotency.UNREAD, as_text=True,
            )  # fmt: skip
        except idempotency.KeyProblem as problem:
            return key_problem(problem)
        return _answer(code, body)

    def run(self, request, work, **kwargs):
        try:
            return work(request, **kwargs)
        except ExchangeRefused as error:
            return error.status, refused(error).data
        except IntegrityError as error:
            # The key of a write done long ago (past the keys' retention) sent again: the operation's unique
            # constraint refuses a second effect; the service's own transaction has already rolled back.
            diagnosis = getattr(error.__cause__, "diag", None)
            if getattr(diagnosis, "constraint_name", "") != "operation_once_per_partner_key":
                raise
            return 422, problem_response(
                code="key_reused", http_status=422, title="The Idempotency-Key was already used",
                detail="This key was used for an earlier operation whose response is no longer kept; use a new key.",
            ).data  # fmt: skip
        except Redemption.DoesNotExist:
            return 404, problem_response(
                code="unknown_redemption", http_status=404, title="No such booking",
                detail="The partner has no redemption with this id.",
            ).data  # fmt: skip

    def program(self, code):
        program = self.partner.programs.filter(code=code).first()
        if program is None:
            raise NotAllowed(f"The partner may not use the program {code!r}.")
        return program


def _redemption_id(value):
    if not re.fullmatch(r"[0-9]{1,18}", value):
        raise Redemption.DoesNotExist
    return int(value)


def redemption_of(partner, pk):
    """The partner's redemption with what its serializer reads (DoesNotExist for another's, or outside its programs)."""
    redemption = services.partners_redemptions(partner).select_related("program", "membership").get(pk=pk)
    redemption.ticket_list = list(RedemptionTicket.objects.filter(redemption=redemption).order_by("ticket_number"))
    return redemption


def redemption_body(partner, pk):
    return redemption_answer(redemption_of(partner, pk))


class QuoteView(PartnerView):
    @extend_schema(
        tags=TAGS, summary="Quote the fare slider",
        description="The points/cash combinations for a cash fare at the program and market's ratios: points plus "
        "cash from the minimum points upward, and the whole fare in points at the redemption-only ratio.",
        request=QuoteRequestSerializer, responses={200: QuoteSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request):
        return self.handle(request, self.quote)

    def quote(self, request):
        body = QuoteRequestSerializer(data=request.data)
        if not body.is_valid():
            return status.HTTP_400_BAD_REQUEST, body.errors
        data = body.validated_data
        ratio, options = quotes.quote(
            partner=self.partner, program=self.program(data["program"]), market=data["market"],
            cash_fare=data["cash_fare"], tickets=data["tickets"],
        )  # fmt: skip
        answer = {
            "program": data["program"], "market": ratio.market, "currency": ratio.currency,
            "cash_fare": data["cash_fare"], "minimum_points": ratio.minimum_points_per_ticket * data["tickets"],
            "options": [vars(option) for option in options],
        }  # fmt: skip
        return status.HTTP_200_OK, QuoteSerializer(answer).data


class AuthorizeView(PartnerView):
    idempotency_scope = "exchanges.authorize"

    @extend_schema(
        tags=TAGS, summary="Authorize (hold) points for a booking",
        description="Holds the tickets' points on the paying membership: they leave its available balance (award "
        "balance minus active holds) until captured or released. Refused (insufficient_points) when they do not fit.",
        parameters=[IDEMPOTENCY_HEADER], request=AuthorizeRequestSerializer,
        responses={201: RedemptionSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request):
        return self.handle(request, self.authorize, scope=self.idempotency_scope)

    def authorize(self, request, key):
        body = AuthorizeRequestSerializer(data=request.data)
        if not body.is_valid():
            return status.HTTP_400_BAD_REQUEST, body.errors
        data = body.validated_data
        program = self.program(data["program"])
        membership = selectors.membership_by_number(data["membership_number"])
        if membership is None or membership.program_id != program.pk:
            return status.HTTP_400_BAD_REQUEST, {"membership_number": ["No membership of this program has it."]}
        redemption = services.authorize(
            partner=self.partner, program=program, membership=membership, pnr=data["pnr"], currency=data["currency"],
            cash_amount=data["cash_amount"], tickets=[(t["ticket_number"], t["points"]) for t in data["tickets"]],
            by=request.user, key=key,
        )  # fmt: skip
        return status.HTTP_201_CREATED, redemption_body(self.partner, redemption.pk)


class RedemptionDetailView(PartnerView):
    @extend_schema(
        tags=TAGS, summary="Read a redemption",
        description="With what remains refundable, in points and per ticket.",
        responses={200: RedemptionSerializer, **PROBLEMS},
    )  # fmt: skip
    def get(self, request, redemption_id):
        return self.handle(request, lambda r: (200, redemption_body(self.partner, _redemption_id(redemption_id))))


class _StepView(PartnerView):
    step = ""

    @property
    def idempotency_scope(self):
        return f"exchanges.{self.step}"

    def post(self, request, redemption_id):
        def work(request, key):
            pk = _redemption_id(redemption_id)
            getattr(services, self.step)(partner=self.partner, redemption_id=pk, by=request.user, key=key)
            return status.HTTP_200_OK, redemption_body(self.partner, pk)

        return self.handle(request, work, scope=self.idempotency_scope)


class CaptureView(_StepView):
    step = "capture"

    @extend_schema(
        tags=TAGS, summary="Capture the held points",
        description="Posts the redemption activity (negative award points) once.",
        parameters=[IDEMPOTENCY_HEADER], request=None, responses={200: RedemptionSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request, redemption_id):
        return super().post(request, redemption_id)


class ReleaseView(_StepView):
    step = "release"

    @extend_schema(
        tags=TAGS, summary="Release the held points", description="The hold ends; nothing is posted.",
        parameters=[IDEMPOTENCY_HEADER], request=None, responses={200: RedemptionSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request, redemption_id):
        return super().post(request, redemption_id)


class RefundView(PartnerView):
    idempotency_scope = "exchanges.refund"

    @extend_schema(
        tags=TAGS, summary="Refund points to the original payer",
        description="In full (neither tickets nor points), by ticket, or an amount of points; only to the original "
        "paying membership (not_original_payer), never beyond captured minus refunded (over_refund). Posts a refund "
        "activity. The cash part of a mixed payment is the caller's to refund: the answer gives it. Points whose "
        "validity ran out since the redemption are credited or forfeited by the program's refund policy "
        "(points_expired, points_forfeited).",
        parameters=[IDEMPOTENCY_HEADER], request=RefundRequestSerializer,
        responses={201: RefundSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request, redemption_id):
        return self.handle(request, lambda r, key: self.refund(r, redemption_id, key), scope=self.idempotency_scope)

    def refund(self, request, redemption_id, key):
        data = full_refund_request(request.data)
        if data is None:
            body = RefundRequestSerializer(data=request.data)
            if not body.is_valid():
                return status.HTTP_400_BAD_REQUEST, body.errors
            data = body.validated_data
        pk = _redemption_id(redemption_id)
        result = services.refund(
            partner=self.partner, redemption_id=pk, membership_number=data["membership_number"],
            ticket_numbers=data.get("ticket_numbers"), points=data.get("points"), by=request.user, key=key,
        )  # fmt: skip
        # The redemption as the refund left it, its tickets included: nothing read again.
        return status.HTTP_201_CREATED, refund_answer(result)


class EligibilityView(PartnerView):
    @extend_schema(
        tags=TAGS, summary="May an award exchange proceed online?",
        description="Answers proceed, or contact_call_centre with a reason code for each seed 004 limitation.",
        request=EligibilityRequestSerializer, responses={200: EligibilitySerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request):
        return self.handle(request, self.check)

    def check(self, request):
        body = EligibilityRequestSerializer(data=request.data)
        if not body.is_valid():
            return status.HTTP_400_BAD_REQUEST, body.errors
        eligible, reasons = services.check_eligibility(state=BookingState(**body.validated_data))
        answer = {
            "eligible": eligible, "action": "proceed" if eligible else "contact_call_centre",
            "reasons": [{"code": code, "message": message} for code, message in reasons],
        }  # fmt: skip
        return status.HTTP_200_OK, EligibilitySerializer(answer).data


class FailureView(PartnerView):
    idempotency_scope = "exchanges.failure"

    @extend_schema(
        tags=TAGS, summary="Report a failure after the point of no return",
        description="A soft failure (seed 004: ticketing, EMD reassociation, …) opens a manual-handling case for "
        "the booking, with the step that failed. Hard failures, before the point of no return, change nothing "
        "and are not reported here.",
        parameters=[IDEMPOTENCY_HEADER], request=FailureRequestSerializer,
        responses={201: CaseSerializer, **PROBLEMS},
    )  # fmt: skip
    def post(self, request, redemption_id):
        return self.handle(request, lambda r, key: self.report(r, redemption_id), scope=self.idempotency_scope)

    def report(self, request, redemption_id):
        body = FailureRequestSerializer(data=request.data)
        if not body.is_valid():
            return status.HTTP_400_BAD_REQUEST, body.errors
        case = services.report_failure(
            partner=self.partner, redemption_id=_redemption_id(redemption_id), step=body.validated_data["step"],
            detail=body.validated_data["detail"], by=request.user,
        )  # fmt: skip
        return status.HTTP_201_CREATED, CaseSerializer(case).data
