"""Feed rows that carry a membership number: posted straight to that member, valued on their own date (seed 001)."""

from dataclasses import dataclass, field

from loyalty import selectors
from loyalty import services as loyalty_services
from loyalty.models import Activity, Location
from retro.imports.pipeline import error_entry, unreadable_reason
from retro.models import RetroTransaction

# The activity's source: with the feed's source_id as its external reference, a re-import posts nothing twice.
FEED_SOURCE = "retro-feed"
# What a feed may earn on; any other transaction type is valued as a purchase, as a retro claim's is.
EARNING_KINDS = frozenset({Activity.Kind.FLIGHT, Activity.Kind.STAY, Activity.Kind.PURCHASE})


@dataclass
class PostedRows:
    """What posting one chunk's member rows did: rows credited, rows already credited, rows refused."""

    posted: int = 0
    duplicates: int = 0
    errors: list = field(default_factory=list)


class MemberRowPoster:
    """Posts the member rows of one import's program through loyalty.services.post_activities, a chunk at a time."""

    def __init__(self, batch):
        self.program = batch.program

    def post(self, rows):
        """rows: (row number, parsed values, original) with a membership_number; returns PostedRows."""
        outcome = PostedRows()
        if not rows:
            return outcome
        memberships = selectors.memberships_by_number(values["membership_number"] for _, values, _ in rows)
        in_pool = set(
            RetroTransaction.objects.filter(
                program=self.program, source_id__in=[values["source_id"] for _, values, _ in rows]
            ).values_list("source_id", flat=True)
        )
        codes = {values["location_code"] for _, values, _ in rows if values["location_code"]}
        locations = {loc.code: loc for loc in Location.objects.filter(program=self.program, code__in=codes)}
        to_post = []
        for number, values, original in rows:
            problem = self._problem(values, memberships.get(values["membership_number"]), in_pool)
            if problem:
                outcome.errors.append(error_entry(number, problem[1], original, problem[0]))
                continue
            membership = memberships[values["membership_number"]]
            membership.program = self.program  # one shared Program object, as the daily pass does
            to_post.append((number, original, self._request(values, membership, locations)))
        if not to_post:
            return outcome
        results = loyalty_services.post_activities(requests=[request for _, _, request in to_post])
        for (number, original, _), result in zip(to_post, results, strict=True):
            if isinstance(result, Exception):
                outcome.errors.append(error_entry(number, _posting_reason(result), original))
            elif getattr(result, "just_posted", False):
                outcome.posted += 1
            else:
                outcome.duplicates += 1
        return outcome

    def _problem(self, values, membership, in_pool):
        """(field, reason) when the row cannot be posted to its member, else None."""
        number = values["membership_number"]
        if membership is None:
            return "membership_number", f"membership_number: no membership has the number {number!r}."
        if membership.program_id != self.program.pk:
            return "membership_number", (
                f"membership_number: {number} is a membership of {membership.program.name}, not of this program."
            )
        if values["source_id"] in in_pool:
            # Crediting it now would let a retro claim on the anonymous copy credit it a second time.
            return "source_id", (
                f"source_id: {values['source_id']} is already in the retro pool without a member; "
                "the member claims it with a retro claim."
            )
        return None

    def _request(self, values, membership, locations):
        kind = values["transaction_type"]
        return loyalty_services.ActivityRequest(
            membership=membership,
            kind=kind if kind in EARNING_KINDS else Activity.Kind.PURCHASE,
            source=FEED_SOURCE,
            occurred_on=values["occurred_on"],
            occurred_at=values["occurred_at"],
            external_reference=values["source_id"],
            amount=values["amount"],
            currency=values["currency"],
            location=locations.get(values["location_code"]),
            attributes=dict(values["attributes"]),
            description=f"Feed transaction {values['source_id']}",
        )


def _posting_reason(error):
    """Why the member's activity could not be posted (no rule set in force that day, …), as the row's reason."""
    return f"The member could not be credited: {unreadable_reason(error)}"
