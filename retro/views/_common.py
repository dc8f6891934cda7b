"""Helpers shared by the retro claim screens: access, submission through the service, outcomes."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404

from loyalty.idempotency import KeyProblem, respond_once
from loyalty.selectors import member_with_memberships
from retro import services
from retro.forms import RetroClaimSubmitForm
from retro.keys import key_fields_for
from retro.models import RetroClaim, RetroClaimStatus
from retro.selectors import claim_points, program_locations, transaction_types_for

PAGE_SIZE = 20
S = RetroClaimStatus
# A supervisor's or CSR's reason for these is internal: the member sees member_message instead.
INTERNAL_REASON_STATUSES = (S.REJECTED, S.REVERSED, S.WITHDRAWN)


def staff_screen(permission):
    """Anonymous users go to the login page; a signed-in user without the permission gets a 403."""

    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate


def member_or_404(member_number):
    """The member with this number, memberships preloaded, or the layout's 404."""
    member = member_with_memberships(member_number)
    if member is None:
        raise Http404(f"No member has the number “{member_number}”.")
    return member


def paginate(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def query_without_page(request):
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def in_member_profile(request, member):
    """Whether an htmx request comes from the member's profile page (its tab) rather than a page of its own.

    In the profile, links between the Retro claims tab and the pool search swap the tab in place;
    on their own pages they are plain links.
    """
    path = request.htmx.current_url_abs_path if request.htmx else None
    return bool(path) and urlsplit(path).path == member.get_absolute_url()


def choose_membership(memberships, wanted):
    for membership in memberships:
        if membership.membership_number == wanted:
            return membership
    return memberships[0] if memberships else None


def submission_setup(program, wanted_type):
    """The transaction types with a key, the chosen one, and its key fields (empty if none defined)."""
    types = transaction_types_for(program)
    transaction_type = wanted_type if wanted_type in types else (types[0] if types else "purchase")
    key_fields = key_fields_for(program, transaction_type) if types else []
    return types, transaction_type, key_fields


def location_choices(program, key_fields):
    """(code, "code · name") of the program's locations when the key asks for a location, else none."""
    if not any(key_field.form_name == "location_code" for key_field in key_fields):
        return []
    return [(location.code, str(location)) for location in program_locations(program)]


def prefilled_values(request, key_fields):
    """Key values a GET carries (the pool search's "claim for this member"), to pre-fill the form."""
    if request.method != "GET":
        return {}
    names = [key_field.form_name for key_field in key_fields] + ["transaction_date"]
    return {name: request.GET[name] for name in names if request.GET.get(name)}


@dataclass
class Submission:
    """A claims screen's submit form: what the request chose, and the claim a valid POST submitted."""

    membership: object
    types: list
    transaction_type: str
    key_fields: list
    form: RetroClaimSubmitForm | None
    claim: object = None
    locations: list = ()

    def fresh_form(self):
        """An empty form for the next claim, after one was submitted."""
        return RetroClaimSubmitForm(key_fields=self.key_fields, locations=self.locations)


def claim_submission(request, memberships, *, channel, allowed=True):
    """Choose membership and transaction type from the request, bind the form, and submit a valid POST.

    The form is None when the user may not submit or the type has no key; `claim` stays None
    unless the service accepted the claim (a refusal is on the form).
    """
    params = request.POST if request.method == "POST" else request.GET
    membership = choose_membership(memberships, params.get("membership"))
    types, transaction_type, key_fields, locations = ([], "purchase", [], [])
    if membership is not None:
        types, transaction_type, key_fields = submission_setup(membership.program, params.get("transaction_type"))
    form = None
    if allowed and key_fields:
        locations = location_choices(membership.program, key_fields)
        initial = prefilled_values(request, key_fields)
        form = RetroClaimSubmitForm(request.POST or None, key_fields=key_fields, locations=locations, initial=initial)
    submission = Submission(membership, types, transaction_type, key_fields, form, locations=locations)
    if request.method == "POST" and form is not None and form.is_valid():
        submission.claim = submit_from_form(
            form, membership=membership, channel=channel, user=request.user, transaction_type=transaction_type
        )
    return submission


def flash_outcome(request, claim):
    """The claim's outcome as a message for the next page (post, redirect, get)."""
    level, text = outcome_of(claim)
    getattr(messages, {"danger": "error"}.get(level, level))(request, text)


FORM_SCOPE = "form:retro.submit_claim"


def submit_from_form(form, *, membership, channel, user, transaction_type):
    """Submit a valid form through the service, once per form token; on refusal put the reasons on the form.

    The same form posted again (a double click, a re-sent page) gets the claim the first post made.
    """

    def submit():
        try:
            claim = services.submit_retro_claim(
                membership=membership,
                channel=channel,
                submitted_by=user,
                key_values=form.key_values(),
                transaction_type=transaction_type,
                transaction_date=form.transaction_date(),
            )
        except ValidationError as error:
            return 400, error
        return 201, {"claim": claim.pk}

    payload = {"membership": membership.pk, "transaction_type": transaction_type, **form.key_values()}
    try:
        status, body = respond_once(
            user=user,
            scope=FORM_SCOPE,
            key=form.cleaned_data.get("form_token") or None,
            payload=payload,
            respond=submit,
            keep_refusals=False,  # a refused form, corrected, is posted again with its token
        )
    except KeyProblem as problem:
        form.add_error(None, FORM_TOKEN_PROBLEMS.get(problem.code, str(problem)))
        return None
    if status >= 400:
        form.add_service_error(body)
        return None
    return RetroClaim.objects.select_related("program", "membership").get(pk=body["claim"])


FORM_TOKEN_PROBLEMS = {
    "key_in_flight": "This claim is being submitted already: wait a moment, its outcome appears below.",
    "key_reused": "This form was already used for a claim: reload the page to submit another one.",
}


def outcome_of(claim):
    """What the person who submitted sees right after: a Bootstrap level and a sentence."""
    currency = claim.program.currency_name
    status = claim.status
    if status == S.MATCHED:
        return "success", f"Matched: {claim_points(claim)} {currency} earned (claim {claim.number})."
    if status == S.PENDING_APPROVAL:
        return "info", f"Pending Approval: claim {claim.number} matched a transaction and waits for a supervisor."
    if status == S.OUTSTANDING:
        return "info", (
            f"Outstanding: claim {claim.number} has no matching transaction yet; "
            f"it stays eligible until {claim.eligible_until:%Y-%m-%d}."
        )
    if status == S.ALREADY_CLAIMED:
        return "warning", f"Already Claimed: the matching transaction was already credited (claim {claim.number})."
    if status == S.TRANSACTION_FAILED:
        return "danger", f"Transaction Failed: {claim.failure_reason or 'the activity could not be posted'}."
    if status == S.NOT_MATCHED:
        reason = claim.failure_reason or "no transaction matches it, and it will not be retried."
        return "warning", f"Not Matched: {reason}"
    return "info", f"Claim {claim.number}: {claim.get_status_display()}."


@dataclass
class ClaimOutcome:
    """How the claim detail page states a final outcome and its reason, labelled by whose reason it is."""

    level: str  # Bootstrap alert level
    title: str
    reason_label: str
    reason: str
    shows_member_message: bool = False
    decided_by: str = ""  # who took the decision, and when: from the transition into the status
    decided_at: object = None


def _decision(title, claim, history, reason_label, **fields):
    log = next((log for log in reversed(history) if log.state == claim.status), None)
    if log is not None:
        fields["decided_by"] = (log.by.get_full_name() or log.by.username) if log.by else "the system"
        fields["decided_at"] = log.timestamp
    return ClaimOutcome("secondary", title, reason_label, claim.failure_reason, **fields)


def claim_outcome(claim, history):
    """The outcome box of the claim detail page, or None while the claim is open or matched."""
    status, reason = claim.status, claim.failure_reason
    if status == S.REJECTED:
        return _decision("Rejected", claim, history, "Supervisor's reason (internal)", shows_member_message=True)
    if status == S.REVERSED:
        return _decision("Reversed", claim, history, "Supervisor's reason (internal)", shows_member_message=True)
    if status == S.WITHDRAWN:
        return _decision("Withdrawn", claim, history, "Reason (internal)")
    if status == S.TRANSACTION_FAILED:
        return ClaimOutcome("danger", "The activity could not be posted", "Why", reason)
    if status in (S.NOT_MATCHED, S.ALREADY_CLAIMED) and reason:
        return ClaimOutcome("warning", claim.get_status_display(), "Why", reason)
    return None


def transaction_heading(claim):
    """What the claim's transaction is to it: only a Matched (or reversed) claim was matched to it."""
    return {
        S.MATCHED: "Matched transaction",
        S.PENDING_APPROVAL: "Reserved transaction (waiting for approval)",
        S.REVERSED: "Transaction (matched, then returned to the pool by the reversal)",
        S.REJECTED: "Transaction reserved for the claim (returned to the pool by the rejection)",
        S.TRANSACTION_FAILED: "Transaction found (returned to the pool: posting failed)",
    }.get(claim.status, "Transaction")


def key_rows(claim):
    """The key values as entered, labelled as the key definition names them."""
    labels = {}
    for key_field in key_fields_for(claim.program_id, claim.transaction_type):
        labels[key_field.form_name] = RetroClaimSubmitForm.label_for(key_field)
    return [(labels.get(name, name), value) for name, value in (claim.key_values or {}).items()]
