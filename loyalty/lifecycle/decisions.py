"""The decision service: lock, check the state, check who decides (maker/checker, approval limit), apply.

Each approval lifecycle describes itself once with an ApprovalPolicy: its
decisions (approve, reject, reverse…), the states each may be taken from, the
permission it needs, who made the object and what it is worth. `decide()` is
then the same for every lifecycle: the row is locked, so two supervisors on one
claim cannot both decide; a decision on an object that has moved on is refused
(NoLongerPending: a 409 in the API); the maker is never the checker unless the
policy says so; and a role's approval limit, set per program in admin
(ApprovalLimit), caps the value it may approve (OverApprovalLimit: a 403).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max

from loyalty.models import ApprovalLimit


class DecisionRefused(ValidationError):
    """A decision that cannot be taken; the message says why, for the person deciding."""

    status = 400


class NoLongerPending(DecisionRefused):
    """The object has left the states the decision may be taken from (someone decided first)."""

    status = 409


class NotAllowedToDecide(DecisionRefused):
    """This user may not take this decision: no permission, the maker, or above their approval limit."""

    status = 403


class OverApprovalLimit(NotAllowedToDecide):
    pass


@dataclass(frozen=True)
class Decision:
    name: str  # "approve"
    label: str  # "Approve", on buttons
    done: str  # "approved", in messages
    from_states: tuple
    permission: str
    reason_required: bool = False
    checks_limit: bool = False  # an approval: the deciding role's limit applies
    checks_maker: bool = True  # the maker may not take it (unless the policy allows)


class ApprovalPolicy:
    """One lifecycle's decisions and rules; subclass per lifecycle and register it.

    A subclass sets `lifecycle` (the key of its ApprovalLimit rows), `label`, `noun`,
    `model`, `decisions`, and implements `apply()`, which does the decision's work
    (including its `transition()`) on the locked object.
    """

    lifecycle = ""
    label = ""
    noun = "item"
    noun_plural = None
    model = None
    decisions: dict = {}
    maker_may_check = False
    value_label = "value"

    def locked(self, pk):
        """The object, row-locked for the decision (add select_related for what apply() reads)."""
        return self.model.objects.select_for_update(of=("self",)).get(pk=pk)

    def state_of(self, obj):
        return obj.status

    def state_label(self, state):
        field = self.model._meta.get_field("status")
        return str(dict(field.flatchoices).get(state, state))

    def maker_id(self, obj):
        return None

    def value(self, obj):
        return None

    def program_id(self, obj):
        return obj.program_id

    def apply(self, obj, decision, *, by, reason, message):
        raise NotImplementedError

    @property
    def plural(self):
        return self.noun_plural or f"{self.noun}s"


POLICIES: dict[str, ApprovalPolicy] = {}


def register_policy(policy):
    """Called from a feature app's AppConfig.ready(): the policy's limits become configurable in admin."""
    POLICIES[policy.lifecycle] = policy
    return policy


def _person(by):
    return None if by is None or isinstance(by, AnonymousUser) else by


def approval_limit(user, *, program_id, lifecycle):
    """The largest value this user may approve in the program, or None for no limit.

    The largest of the limits set for the user's roles; roles without a limit row do not
    count, and with no row at all for the user's roles (or for a superuser) there is no limit.
    """
    if user.is_superuser:
        return None
    return ApprovalLimit.objects.filter(
        program_id=program_id, lifecycle=lifecycle, role__in=user.groups.all()
    ).aggregate(top=Max("max_value"))["top"]


def check_may_decide(policy, decision, obj, by):
    """Raise NotAllowedToDecide unless `by` may take `decision` on `obj`; None means the system itself."""
    user = _person(by)
    if user is None:
        return
    if not user.has_perm(decision.permission):
        raise NotAllowedToDecide(
            f"Your account may not {decision.label.lower()} {policy.plural}.", code="no_permission"
        )
    if decision.checks_maker and not policy.maker_may_check and policy.maker_id(obj) == user.pk:
        raise NotAllowedToDecide(
            f"You submitted {policy.noun} {obj}; another person must {decision.label.lower()} it.",
            code="maker_is_checker",
        )
    if decision.checks_limit:
        limit = approval_limit(user, program_id=policy.program_id(obj), lifecycle=policy.lifecycle)
        value = policy.value(obj)
        if limit is not None and (value is None or Decimal(value) > limit):
            worth = "an unknown value" if value is None else f"{value:,} {policy.value_label}"
            raise OverApprovalLimit(
                f"{policy.noun.capitalize()} {obj} is worth {worth}; your approval limit is "
                f"{limit:,.0f} {policy.value_label}. Ask someone with a higher limit.",
                code="over_approval_limit",
            )


def decide(policy, obj, decision_name, *, by, reason="", message=""):
    """Take one decision on one object, atomically; returns the object as it now stands.

    `reason` is internal (kept in the history); `message`, optional, is what the customer is told.
    """
    decision = policy.decisions[decision_name]
    reason = (reason or "").strip()
    if decision.reason_required and not reason:
        raise DecisionRefused({"reason": f"Say why the {policy.noun} is {decision.done}."}, code="reason_required")
    with transaction.atomic():
        obj = policy.locked(getattr(obj, "pk", obj))
        state = policy.state_of(obj)
        if state not in decision.from_states:
            allowed = " or ".join(policy.state_label(s) for s in decision.from_states)
            raise NoLongerPending(
                f"{policy.noun.capitalize()} {obj} is {policy.state_label(state)}; only {allowed} "
                f"{policy.plural} can be {decision.done}.",
                code="not_pending",
            )
        check_may_decide(policy, decision, obj, by)
        policy.apply(obj, decision, by=_person(by), reason=reason, message=(message or "").strip())
    return obj


@dataclass
class Outcome:
    pk: object
    obj: object = None
    error: DecisionRefused | ValidationError | None = None


def decide_many(policy, pks, decision_name, *, by, reason="", message=""):
    """The same decision on several objects, each in its own transaction: one refusal stops no other."""
    outcomes = []
    for pk in pks:
        try:
            outcomes.append(Outcome(pk, decide(policy, pk, decision_name, by=by, reason=reason, message=message)))
        except policy.model.DoesNotExist:
            outcomes.append(Outcome(pk, error=NoLongerPending(f"{policy.noun.capitalize()} #{pk} no longer exists.")))
        except ValidationError as error:
            outcomes.append(Outcome(pk, error=error))
    return outcomes


def refusal_for(policy, decision_name, obj, user):
    """Why `user` may not take this decision on `obj` now (for a screen to say so up front), or None."""
    decision = policy.decisions[decision_name]
    if policy.state_of(obj) not in decision.from_states:
        return f"This {policy.noun} is {policy.state_label(policy.state_of(obj))}."
    try:
        check_may_decide(policy, decision, obj, user)
    except NotAllowedToDecide as error:
        return " ".join(error.messages)
    return None
