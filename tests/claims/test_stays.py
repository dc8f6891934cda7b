"""Stays: the daily calculation credits a checked-out stay once, after the delay, valued on its departure date;
a card attached to a stay is then credited on schedule; exceptions wait for a CSR."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims import stays as stay_services
from claims.models import ClaimSettings, Stay, StayException, StayStatus
from claims.tasks import calculate_stays
from loyalty.models import Activity, LedgerEntry
from tests.claims.factories import earning, hotel_program, membership_in, stay

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    program = hotel_program()
    earning(program, points=100)
    return program


def points(membership):
    return sum(e.quantity for e in LedgerEntry.objects.filter(membership=membership, metric__in=["base", "bonus"]))


def days_ago(n):
    return timezone.localdate() - dt.timedelta(days=n)


def test_a_checked_out_stay_is_calculated_once_after_the_delay(program):
    membership = membership_in(program)
    recent = stay(program, membership=membership, departure=days_ago(2), number="R1")
    due = stay(program, membership=membership, departure=days_ago(3), number="R2")
    run = stay_services.calculate_due_stays()
    assert run.calculated == 1
    due.refresh_from_db()
    recent.refresh_from_db()
    assert due.calculated and due.activity.occurred_on == due.departure_date and not recent.calculated
    assert points(membership) == 100
    LedgerEntry.objects.filter(membership=membership, metric="stays").get()
    # Run again, and through the task (as beat does): nothing more.
    assert stay_services.calculate_due_stays().calculated == 0
    calculate_stays()
    assert points(membership) == 100 and Activity.objects.filter(membership=membership).count() == 1


def test_the_delay_is_the_programs_and_at_least_three_days(program):
    ClaimSettings.objects.filter(program=program).update(calculation_delay_days=5)
    membership = membership_in(program)
    stay(program, membership=membership, departure=days_ago(4), number="R1")
    assert stay_services.calculate_due_stays().calculated == 0
    assert stay_services.calculate_due_stays(today=timezone.localdate() + dt.timedelta(days=1)).calculated == 1
    settings = ClaimSettings.objects.get(program=program)
    settings.calculation_delay_days = 2
    with pytest.raises(ValidationError):
        settings.full_clean()


def test_only_checked_out_stays_with_a_card_earn(program):
    membership = membership_in(program)
    for n, status in enumerate([StayStatus.NO_SHOW, StayStatus.CANCELLED, StayStatus.IN_HOUSE]):
        stay(program, membership=membership, status=status, number=f"X{n}", departure=days_ago(30))
    stay(program, membership=None, number="NOCARD", departure=days_ago(30))
    assert stay_services.calculate_due_stays().calculated == 0
    assert points(membership) == 0


def test_a_stay_is_valued_on_its_departure_date_with_the_rules_then(program):
    from tests.loyalty._builders import fixed, rule_set

    old = program.rule_sets.get()
    old.valid_to = days_ago(31)
    old.save()
    rule_set(program, "Double", days_ago(30), None, [fixed(200, name="Stay 200")])
    membership = membership_in(program)
    stay(program, membership=membership, departure=days_ago(40), number="OLD")
    stay(program, membership=membership, departure=days_ago(10), number="NEW")
    stay_services.calculate_due_stays()
    assert points(membership) == 300


def test_attaching_a_card_then_the_scheduled_calculation_credits_it_once(csr, program):
    membership = membership_in(program)
    orphan = stay(program, membership=None, number="ORPHAN", departure=days_ago(10),
                  exception=StayException.NO_CARD)  # fmt: skip
    assert stay_services.calculate_due_stays().calculated == 0
    orphan = stay_services.attach_card(stay=orphan, membership_number=membership.membership_number, by=csr)
    assert orphan.membership == membership and orphan.exception == "" and orphan.card_attached_by == csr
    assert stay_services.calculate_due_stays().calculated == 1
    assert stay_services.calculate_due_stays().calculated == 0
    assert points(membership) == 100
    with pytest.raises(ValidationError, match="calculated"):
        stay_services.attach_card(stay=orphan, membership_number=membership.membership_number, by=csr)


def test_a_card_is_only_attached_to_a_checked_out_stay_of_its_program(csr, program):
    from tests.factories import MembershipFactory, ProgramFactory

    membership = membership_in(program)
    no_show = stay(program, membership=None, status=StayStatus.NO_SHOW, number="NS")
    with pytest.raises(ValidationError, match="CHECKED OUT"):
        stay_services.attach_card(stay=no_show, membership_number=membership.membership_number, by=csr)
    orphan = stay(program, membership=None, number="O")
    with pytest.raises(ValidationError) as error:
        stay_services.attach_card(stay=orphan, membership_number="NOPE", by=csr)
    assert "NOPE" in error.value.message_dict["membership_number"][0]
    elsewhere = MembershipFactory(program=ProgramFactory(code="else"))
    with pytest.raises(ValidationError, match="is not in"):
        stay_services.attach_card(stay=orphan, membership_number=elsewhere.membership_number, by=csr)


def test_a_stay_with_another_members_card_waits_for_a_csr(csr, program):
    guest, owner = membership_in(program), membership_in(program)
    flagged = stay(program, membership=owner, guest=guest.member, number="MIX",
                   exception=StayException.OTHER_MEMBERS_CARD)  # fmt: skip
    assert stay_services.calculate_due_stays().calculated == 0
    stay_services.attach_card(stay=flagged, membership_number=guest.membership_number, by=csr)
    stay_services.calculate_due_stays()
    assert (points(guest), points(owner)) == (100, 0)


def test_a_failed_calculation_is_flagged_and_retried_on_request(csr, program):
    program.rule_sets.all().delete()
    membership = membership_in(program)
    failing = stay(program, membership=membership, number="F")
    run = stay_services.calculate_due_stays()
    failing.refresh_from_db()
    assert run.failed == 1 and failing.exception == StayException.CALCULATION_FAILED
    assert "No earning rule set" in failing.exception_detail
    assert stay_services.calculate_due_stays().failed == 0  # flagged: not retried every night
    earning(program)
    stay_services.retry_failed_stay(stay=failing, by=csr)
    assert stay_services.calculate_due_stays().calculated == 1


def test_est_points_shows_todays_rules_beside_the_point_in_time_value(program):
    from tests.loyalty._builders import fixed, rule_set

    old = program.rule_sets.get()
    old.valid_to = days_ago(5)
    old.save()
    rule_set(program, "Now", days_ago(4), None, [fixed(250, name="Stay 250")])
    membership = membership_in(program)
    estimate = stay_services.estimate_stay(stay(program, membership=membership, departure=days_ago(10)))
    assert (estimate.today_points, estimate.today_date) == (250, timezone.localdate())
    assert (estimate.posting_points, estimate.posting_date) == (100, days_ago(10))


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_credit_each_stay_once():
    from tests.concurrency import race

    program = hotel_program()
    earning(program, points=100)
    membership = membership_in(program)
    for n in range(30):
        stay(program, membership=membership, number=f"C{n}", departure=days_ago(10 + n))
    results = race([lambda: stay_services.calculate_due_stays(batch_size=7).calculated] * 2)
    assert sum(results) == 30
    assert Activity.objects.filter(membership=membership).count() == 30
    assert Stay.objects.filter(activity__isnull=True).count() == 0


def test_the_daily_task_asks_one_more_part_per_extra_worker(program, settings, monkeypatch):
    from loyalty.models import OutboxMessage

    settings.STAY_CALCULATION_WORKERS = 3
    monkeypatch.setattr("loyalty.background.relay_outbox", lambda **kwargs: 0)  # keep them in the outbox
    membership = membership_in(program)
    stay(program, membership=membership, number="P1", departure=days_ago(10))
    calculate_stays()
    parts = OutboxMessage.objects.filter(task="claims.calculate_stays_part")
    assert parts.count() == 2
    assert points(membership) == 100
