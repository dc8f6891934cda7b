"""Factories for the retro claim screen and API tests: keys, settings, the pool, rule sets, claims."""

import datetime as dt
from decimal import Decimal

import factory
from django.core.exceptions import ValidationError
from django.utils import timezone

from loyalty.models import EarningRule, EarningRuleSet
from retro import keys
from retro.models import RetroClaim, RetroClaimKey, RetroClaimKeyField, RetroSettings, RetroTransaction
from tests.factories import MemberFactory, MembershipFactory, ProgramFactory

PURCHASE_KEY = ("location_code", "transaction_date", "reference", "amount")


def recent_day(days_ago=10):
    """A date inside the default claim window (180 days) and after the factories' enrolment (2022)."""
    return timezone.localdate() - dt.timedelta(days=days_ago)


class RetroClaimKeyFactory(factory.django.DjangoModelFactory):
    """A key definition; `parts` lists its fields in order (attributes as "attr_<name>")."""

    class Meta:
        model = RetroClaimKey
        django_get_or_create = ("program", "transaction_type")
        skip_postgeneration_save = True

    program = factory.SubFactory(ProgramFactory)
    transaction_type = "purchase"

    @factory.post_generation
    def parts(self, create, extracted, **kwargs):
        if not create or self.fields.exists():
            return
        for position, part in enumerate(extracted or PURCHASE_KEY, start=1):
            if part.startswith("attr_"):
                RetroClaimKeyField.objects.create(
                    key=self, position=position, field="attribute", attribute_name=part[5:]
                )
            else:
                RetroClaimKeyField.objects.create(key=self, position=position, field=part)


class RetroSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RetroSettings
        django_get_or_create = ("program",)

    program = factory.SubFactory(ProgramFactory)


class EarningRuleSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarningRuleSet

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Rules {n}")
    valid_from = dt.date(2020, 1, 1)
    valid_to = None


class EarningRuleFactory(factory.django.DjangoModelFactory):
    """By default 10 points per currency unit: a 42.00 purchase earns 420."""

    class Meta:
        model = EarningRule

    rule_set = factory.SubFactory(EarningRuleSetFactory)
    name = "Points per euro"
    calculation = EarningRule.Calculation.PER_CURRENCY_UNIT
    rate = Decimal("10")


class RetroTransactionFactory(factory.django.DjangoModelFactory):
    """A pool transaction; its match key is computed with the program's key definition."""

    class Meta:
        model = RetroTransaction

    program = factory.SubFactory(ProgramFactory)
    transaction_type = "purchase"
    source_id = factory.Sequence(lambda n: f"POS-{n:06d}")
    location_code = "PAR01"
    occurred_at = factory.LazyFunction(lambda: dt.datetime.combine(recent_day(), dt.time(12, 30), tzinfo=dt.UTC))
    occurred_on = factory.LazyAttribute(lambda t: t.program.local_date(t.occurred_at))
    reference = factory.Sequence(lambda n: f"R{n:05d}")
    amount = Decimal("42.00")
    currency = "EUR"
    expires_on = factory.LazyAttribute(lambda t: t.occurred_on + dt.timedelta(days=365))
    match_key = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        txn = model_class(*args, **kwargs)
        if not txn.match_key:
            try:
                txn.match_key = keys.transaction_match_key(txn)
            except ValidationError:
                txn.match_key = f"!unkeyed-{txn.source_id}"
        txn.save()
        return txn


class RetroClaimFactory(factory.django.DjangoModelFactory):
    """A claim row written directly, in any status (for list, detail and decision screens)."""

    class Meta:
        model = RetroClaim

    membership = factory.SubFactory(MembershipFactory)
    program = factory.SelfAttribute("membership.program")
    number = factory.Sequence(lambda n: f"RC9{n:07d}")
    channel = RetroClaim.Channel.CSR
    submitted_at = factory.LazyFunction(timezone.now)
    transaction_date = factory.LazyFunction(recent_day)
    key_values = factory.LazyAttribute(
        lambda c: {"location_code": "PAR01", "transaction_date": c.transaction_date.isoformat(), "reference": "R1"}
    )
    match_key = factory.Sequence(lambda n: f"!factory-{n}")
    eligible_until = factory.LazyAttribute(lambda c: c.transaction_date + dt.timedelta(days=365))


def retro_program(code="shop", *, parts=PURCHASE_KEY, rate="10", **settings):
    """A program ready for retro claims: a purchase key, settings, and rules in force since 2020."""
    program = ProgramFactory(code=code, name=f"{code.title()} Rewards")
    RetroClaimKeyFactory(program=program, parts=parts)
    retro_settings = RetroSettingsFactory(program=program)
    for name, value in settings.items():
        setattr(retro_settings, name, value)
    retro_settings.save()
    EarningRuleFactory(rule_set=EarningRuleSetFactory(program=program), rate=Decimal(rate))
    return program


def member_in(program, **member_fields):
    """A member with one membership of the program."""
    return MembershipFactory(program=program, member=MemberFactory(**member_fields))


def key_values_of(txn):
    """What a member would type for this transaction under the purchase key."""
    return {
        "location_code": txn.location_code,
        "transaction_date": txn.occurred_on.isoformat(),
        "reference": txn.reference,
        "amount": f"{txn.amount:.2f}",
    }
