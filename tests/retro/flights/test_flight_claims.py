"""Claiming a flown coupon for a member, every refusal, manual entry, and the decisions that follow."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loyalty.lifecycle.decisions import NoLongerPending, NotAllowedToDecide, OverApprovalLimit
from loyalty.models import Activity, ApprovalLimit, LedgerEntry, Member
from retro.flights.decisions import approve_flight_claim, reject_flight_claim
from retro.flights.services import add_manual_flight, submit_flight_claim
from retro.models import Flight, FlightClaim, FlightSettings
from tests.factories import UserFactory
from tests.retro.flights.factories import FlightFactory, airline, days_ago, traveller

pytestmark = pytest.mark.django_db


def claim(membership, flight, by, coupons=None):
    return submit_flight_claim(
        membership=membership, ticket_number=flight.ticket_number,
        coupon_numbers=coupons or [flight.coupon_number], submitted_by=by,
    )  # fmt: skip


def refusal(membership, flight, by):
    with pytest.raises(ValidationError) as error:
        claim(membership, flight, by)
    return " ".join(error.value.messages)


def miles_of(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric="base"))


def test_a_claimed_coupon_waits_for_approval_with_its_miles_and_name_check(csr):
    flight = FlightFactory(distance=3451, booking_class="J")
    [flight_claim] = claim(traveller(airline()), flight, csr)
    assert flight_claim.status == "pending" and flight_claim.number == f"FC{flight_claim.pk:08d}"
    assert flight_claim.estimated_miles == 6902 and flight_claim.valued_on == flight.flight_date
    assert flight_claim.name_match == "match" and flight_claim.coupon == f"{flight.ticket_number}/1"


def test_several_coupons_of_one_ticket_become_one_claim_each(csr):
    first = FlightFactory(coupon_number=1)
    FlightFactory(ticket_number=first.ticket_number, coupon_number=2, origin="LHR", destination="JFK")
    claims = claim(traveller(airline()), first, csr, coupons=[1, 2])
    assert [c.coupon_number for c in claims] == [1, 2] and claims[0].submission == claims[1].submission


def test_a_mismatched_name_can_still_be_submitted_and_says_so(csr):
    [flight_claim] = claim(traveller(airline()), FlightFactory(passenger_name="JONES/MARY MRS"), csr)
    assert flight_claim.name_match == "mismatch" and "JONES" in flight_claim.name_message


@pytest.mark.parametrize(
    "change, words",
    [
        ({"flown": False}, "was not flown"),
        ({"flight_date_days_ago": 3}, "too recent"),
        ({"flight_date_days_ago": 200}, "more than 6 months ago"),
        ({"ticket_number": "1250000000001"}, "neither this program's airline nor one of its partners"),
    ],
)
def test_a_coupon_that_cannot_earn_is_refused_with_the_reason(csr, change, words):
    if "flight_date_days_ago" in change:
        change = {"flight_date": days_ago(change.pop("flight_date_days_ago"))}
    assert words in refusal(traveller(airline()), FlightFactory(**change), csr)


def test_a_too_recent_flight_says_from_which_date_it_can_be_claimed(csr):
    flight = FlightFactory(flight_date=days_ago(2))
    assert f"can be claimed from {flight.flight_date + dt.timedelta(days=7):%Y-%m-%d}" in refusal(
        traveller(airline()), flight, csr
    )


def test_a_partner_airlines_ticket_can_be_claimed(csr):
    [flight_claim] = claim(traveller(airline()), FlightFactory(ticket_number="0160000000001"), csr)
    assert flight_claim.status == "pending"


def test_a_flight_before_enrolment_is_refused_unless_within_the_buffer(csr):
    membership = traveller(airline())
    membership.joined_on = days_ago(10)
    membership.save()
    flight = FlightFactory(flight_date=days_ago(12))
    assert "before the member joined" in refusal(membership, flight, csr)
    FlightSettings.objects.filter(program=membership.program).update(enrolment_buffer_days=5)
    assert claim(membership, flight, csr)[0].status == "pending"


def test_a_member_who_cannot_earn_is_refused(csr):
    membership = traveller(airline(), status=Member.Status.SUSPENDED)
    assert "Suspended" in refusal(membership, FlightFactory(), csr)


def test_a_coupon_pending_for_anyone_is_refused(csr):
    flight = FlightFactory()
    claim(traveller(airline()), flight, csr)
    assert "already has a claim waiting for approval" in refusal(traveller(airline(), "Ann", "Other"), flight, csr)


def test_a_credited_coupon_is_refused(csr, supervisor):
    flight = FlightFactory()
    approve_flight_claim(claim=claim(traveller(airline()), flight, csr)[0], by=supervisor)
    assert "already been credited" in refusal(traveller(airline()), flight, csr)


def test_an_unknown_coupon_is_refused():
    with pytest.raises(ValidationError, match="No flight found for ticket 0579999999999"):
        submit_flight_claim(membership=traveller(airline()), ticket_number="0579999999999", coupon_numbers=[1],
                            submitted_by=None)  # fmt: skip


@pytest.mark.parametrize("ticket", ["05712345", "05712345678901", "057ABCDEFGHIJ", ""])
def test_a_malformed_ticket_number_is_a_field_error(ticket):
    with pytest.raises(ValidationError) as error:
        submit_flight_claim(
            membership=traveller(airline()), ticket_number=ticket, coupon_numbers=[1], submitted_by=None
        )
    assert "ticket_number" in error.value.message_dict


def test_the_database_never_credits_a_coupon_twice(csr):
    flight = FlightFactory()
    [first] = claim(traveller(airline()), flight, csr)
    FlightClaim.objects.filter(pk=first.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        copy = FlightClaim.objects.get(pk=first.pk)
        copy.pk, copy.number = None, "FC-copy"
        copy.save()


def test_approval_posts_the_flight_activity_once_with_miles_and_tier_metrics(csr, supervisor):
    membership = traveller(airline())
    [flight_claim] = claim(membership, FlightFactory(distance=1000), csr)
    approved = approve_flight_claim(claim=flight_claim, by=supervisor, reason="Boarding pass seen")
    activity = approved.activity
    assert approved.status == "approved" and activity.kind == Activity.Kind.FLIGHT
    assert activity.occurred_on == flight_claim.flight_date and miles_of(membership) == 1000
    metrics = dict(LedgerEntry.objects.filter(activity=activity).values_list("metric", "quantity"))
    assert metrics["qualifying_miles"] == 1000 and metrics["qualifying_segments"] == 1
    with pytest.raises(NoLongerPending):
        approve_flight_claim(claim=flight_claim, by=supervisor)
    assert miles_of(membership) == 1000


def test_the_miles_posted_are_the_flight_dates_value_when_the_tier_changed_since(csr, supervisor):
    program = airline()
    membership = traveller(program, tier="gold")  # gold since 2022: +50 % on the flight date
    membership.tier_periods.update(valid_to=days_ago(10))
    [flight_claim] = claim(membership, FlightFactory(distance=1000, flight_date=days_ago(20)), csr)
    assert flight_claim.estimated_miles == 1500
    approve_flight_claim(claim=flight_claim, by=supervisor)
    assert (
        sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric__in=["base", "bonus"])) == 1500
    )


def test_rejection_needs_a_reason_and_emails_the_member(csr, supervisor, django_capture_on_commit_callbacks):
    [flight_claim] = claim(traveller(airline(), email="john@example.com"), FlightFactory(), csr)
    with pytest.raises(ValidationError):
        reject_flight_claim(claim=flight_claim, by=supervisor, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        rejected = reject_flight_claim(claim=flight_claim, by=supervisor, reason="Not the member's flight",
                                       member_message="The ticket is in another passenger's name.")  # fmt: skip
    assert rejected.status == "rejected" and rejected.activity is None
    assert len(mail.outbox) == 1 and "another passenger's name" in mail.outbox[0].body


def test_approval_emails_the_member_once(csr, supervisor, django_capture_on_commit_callbacks):
    [flight_claim] = claim(traveller(airline(), email="john@example.com"), FlightFactory(distance=800), csr)
    with django_capture_on_commit_callbacks(execute=True):
        approve_flight_claim(claim=flight_claim, by=supervisor)
    assert len(mail.outbox) == 1 and "800 Miles were credited" in mail.outbox[0].body


def test_the_submitter_cannot_decide_their_own_claim(supervisor):
    [flight_claim] = claim(traveller(airline()), FlightFactory(), supervisor)
    with pytest.raises(NotAllowedToDecide, match="another person must approve"):
        approve_flight_claim(claim=flight_claim, by=supervisor)


def test_the_roles_approval_limit_in_miles_applies(csr, supervisor):
    program = airline()
    ApprovalLimit.objects.create(program=program, lifecycle="flight_claim", role=supervisor.groups.get(),
                                 max_value=500)  # fmt: skip
    [flight_claim] = claim(traveller(program), FlightFactory(distance=3451), csr)
    with pytest.raises(OverApprovalLimit, match="3,451 miles"):
        approve_flight_claim(claim=flight_claim, by=supervisor)


def test_a_csr_cannot_approve(csr):
    [flight_claim] = claim(traveller(airline()), FlightFactory(), UserFactory(username="other", role="CSR"))
    with pytest.raises(NotAllowedToDecide):
        approve_flight_claim(claim=flight_claim, by=csr)


def manual(**overrides):
    values = dict(
        ticket_number="0578888888888", coupon_number=1, operating_carrier="SW", marketing_carrier="SW",
        flight_number="202", flight_date=days_ago(15), origin="JFK", destination="BOS", cabin="Economy",
        booking_class="Y", distance=187, passenger_name="", flown=True,
    )  # fmt: skip
    return Flight(**{**values, **overrides})


def test_a_manual_entry_waits_for_a_supervisor_marked_manual(csr, supervisor):
    membership = traveller(airline())
    entry = add_manual_flight(membership=membership, coupon=manual(), submitted_by=csr, note="Boarding pass")
    assert entry.manual_entry and entry.name_match == "manual" and entry.status == "pending"
    approve_flight_claim(claim=entry, by=supervisor)
    assert miles_of(membership) == 187


def test_a_manual_entry_of_a_coupon_in_the_feed_is_refused(csr):
    flight = FlightFactory()
    with pytest.raises(ValidationError, match="is in the airline's feed"):
        add_manual_flight(membership=traveller(airline()), coupon=manual(ticket_number=flight.ticket_number),
                          submitted_by=csr, note="Boarding pass")  # fmt: skip


def test_a_manual_entry_needs_a_note(csr):
    with pytest.raises(ValidationError) as error:
        add_manual_flight(membership=traveller(airline()), coupon=manual(), submitted_by=csr, note="")
    assert "note" in error.value.message_dict


def test_the_miles_posted_are_the_flight_dates_rules_when_the_rules_changed_since(csr, supervisor):
    from loyalty.models import EarningRule, EarningRuleSet

    program = airline()
    membership = traveller(program)
    flight = FlightFactory(distance=1000, flight_date=days_ago(30))
    current = EarningRuleSet.objects.get(program=program)
    EarningRuleSet.objects.filter(pk=current.pk).update(valid_to=days_ago(10))
    doubled = EarningRuleSet.objects.create(program=program, name="Double miles", valid_from=days_ago(9))
    EarningRule.objects.create(rule_set=doubled, name="Distance × 2", activity_kind="flight",
                               calculation=EarningRule.Calculation.DISTANCE, class_multipliers={"Y": 2})  # fmt: skip
    [flight_claim] = claim(membership, flight, csr)
    approve_flight_claim(claim=flight_claim, by=supervisor)
    assert flight_claim.estimated_miles == 1000 and miles_of(membership) == 1000
