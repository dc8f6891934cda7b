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
from django.utils import timezone

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
    # The date-time field an item has waited since: the age of the oldest pending one is watched (/metrics).
    waiting_since = ""

    def pending(self):
        """Every item waiting for a decision, in all programs (monitoring counts them; queues scope by user).

        By default those whose status the approve decision may be taken from; a lifecycle whose
        waiting items are not told by status alone overrides this.
        """
        return self.model.objects.filter(status__in=self.decisions["approve"].from_states)

    def locking_queryset(self):
        """Objects row-locked for a decision (override to add select_related for what apply() reads)."""
        return self.model.objects.select_for_update(of=("self",))

    def locked(self, pk):
        return self.locking_queryset().get(pk=pk)

    def locked_many(self, pks):
        """{pk: object} of those still there, locked in one statement in id order (two bulks cannot deadlock)."""
        return {obj.pk: obj for obj in self.locking_queryset().filter(pk__in=pks).order_by("pk")}

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

    def permission(self, decision, obj):
        """The permission this decision needs on this object (a lifecycle may ask more for some objects)."""
        return decision.permission

    def approved_since(self, user, *, program_id, since):
        """The value `user` has approved in the program since `since`, for a role's daily cap (None: no cap)."""
        return None

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
    return approval_limits(user, program_id=program_id, lifecycle=lifecycle)[0]


def approval_limits(user, *, program_id, lifecycle):
    """(largest value per decision, largest total per day) this user may approve; None for no limit.

    Each is the largest set for the user's roles; a role whose row leaves the daily cap empty has none.
    """
    if user.is_superuser:
        return None, None
    rows = list(
        ApprovalLimit.objects.filter(program_id=program_id, lifecycle=lifecycle, role__in=user.groups.all())
        .order_by()
        .values_list("max_value", "daily_max")
    )
    if not rows:
        return None, None
    daily = [cap for _, cap in rows]
    return max(top for top, _ in rows), (None if None in daily else max(daily))


def check_may_decide(policy, decision, obj, by, *, limits=None):
    """Raise NotAllowedToDecide unless `by` may take `decision` on `obj`; None means the system itself.

    `limits`: a dict to remember the user's approval limits in, across one bulk decision.
    """
    user = _person(by)
    if user is None:
        return
    if not user.has_perm(policy.permission(decision, obj)):
        raise NotAllowedToDecide(
            f"Your account may not {decision.label.lower()} {policy.plural}.", code="no_permission"
        )
    if decision.checks_maker and not policy.maker_may_check and policy.maker_id(obj) == user.pk:
        raise NotAllowedToDecide(
            f"You submitted {policy.noun} {obj}; another person must {decision.label.lower()} it.",
            code="maker_is_checker",
        )
    if decision.checks_limit:
        program_id = policy.program_id(obj)
        if limits is None or program_id not in limits:
            found = approval_limits(user, program_id=program_id, lifecycle=policy.lifecycle)
            if limits is None:
                limits = {}
            limits[program_id] = found
        limit, daily_cap = limits[program_id]
        value = policy.value(obj)
        if limit is not None and (value is None or Decimal(value) > limit):
            worth = "an unknown value" if value is None else f"{value:,} {policy.value_label}"
            raise OverApprovalLimit(
                f"{policy.noun.capitalize()} {obj} is worth {worth}; your approval limit is "
                f"{limit:,.0f} {policy.value_label}. Ask someone with a higher limit.",
                code="over_approval_limit",
            )
        if daily_cap is not None:
            _check_daily_cap(policy, obj, user, program_id=program_id, cap=daily_cap, value=value)


def _check_daily_cap(policy, obj, user, *, program_id, cap, value):
    """A role's cap on what one person approves per day (since midnight in the server's time zone)."""
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    done = policy.approved_since(user, program_id=program_id, since=since)
    if done is None:
        return
    if Decimal(done) + Decimal(value or 0) > cap:
        left = max(cap - Decimal(done), Decimal(0))
        raise OverApprovalLimit(
            f"{policy.noun.capitalize()} {obj} is worth {value or 0:,} {policy.value_label}; you have approved "
            f"{done:,} {policy.value_label} today and your daily cap is {cap:,.0f} ({left:,.0f} left). "
            "Ask someone else, or wait until tomorrow.",
            code="over_daily_cap",
        )


def decide(policy, obj, decision_name, *, by, reason="", message=""):
    """Take one decision on one object, atomically; returns the object as it now stands.

    `reason` is internal (kept in the history); `message`, optional, is what the customer is told.
    """
    decision, reason = _decision_and_reason(policy, decision_name, reason)
    with transaction.atomic():
        obj = policy.locked(getattr(obj, "pk", obj))
        _decide_locked(policy, decision, obj, by=by, reason=reason, message=message)
    return obj


def _decision_and_reason(policy, decision_name, reason):
    decision = policy.decisions[decision_name]
    reason = (reason or "").strip()
    if decision.reason_required and not reason:
        raise DecisionRefused({"reason": f"Say why the {policy.noun} is {decision.done}."}, code="reason_required")
    return decision, reason


def _decide_locked(policy, decision, obj, *, by, reason, message, limits=None):
    state = policy.state_of(obj)
    if state not in decision.from_states:
        allowed = " or ".join(policy.state_label(s) for s in decision.from_states)
        raise NoLongerPending(
            f"{policy.noun.capitalize()} {obj} is {policy.state_label(state)}; only {allowed} "
            f"{policy.plural} can be {decision.done}.",
            code="not_pending",
        )
    check_may_decide(policy, decision, obj, by, limits=limits)
    policy.apply(obj, decision, by=_person(by), reason=reason, message=(message or "").strip())


@dataclass
class Outcome:
    pk: object
    obj: object = None
    error: DecisionRefused | ValidationError | None = None


def decide_many(policy, pks, decision_name, *, by, reason="", message=""):
    """The same decision on several objects: one refusal stops no other; returns an Outcome per pk.

    One transaction: the rows are locked together in one statement (in id order), then each is
    decided in a savepoint of its own, so a refused or failing one is undone alone and the rest
    commit at once. Approving 500 claims thus costs one lock statement and one commit, not 500.
    """
    try:
        decision, reason = _decision_and_reason(policy, decision_name, reason)
    except DecisionRefused as error:
        return [Outcome(pk, error=error) for pk in pks]
    to_pk = policy.model._meta.pk.to_python
    outcomes, limits = [], {}
    with transaction.atomic():
        found = policy.locked_many([to_pk(pk) for pk in pks])
        for pk in pks:
            obj = found.get(to_pk(pk))
            if obj is None:
                error = NoLongerPending(f"{policy.noun.capitalize()} #{pk} no longer exists.")
                outcomes.append(Outcome(pk, error=error))
                continue
            try:
                with transaction.atomic():
                    _decide_locked(policy, decision, obj, by=by, reason=reason, message=message, limits=limits)
            except ValidationError as error:
                outcomes.append(Outcome(pk, error=error))
            else:
                outcomes.append(Outcome(pk, obj))
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
