"""factory_boy factories shared by every app's tests."""

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from loyalty.models import Location, Member, Membership, Program, Tier, TierPeriod


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            self.save()  # keeps the password set by the hook above
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("code",)

    code = "shop"
    name = "Shop Rewards"
    kind = Program.Kind.RETAIL
    currency_name = "Points"
    time_zone = "Europe/Paris"


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier
        django_get_or_create = ("program", "code")

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"tier{n}")
    name = factory.LazyAttribute(lambda t: t.code.title())
    rank = factory.Sequence(lambda n: n + 1)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    member_number = factory.Sequence(lambda n: f"M{n:08d}")
    first_name = "Zoë"
    last_name = factory.Sequence(lambda n: f"Lefèvre-Martin{n}")
    email = factory.LazyAttribute(lambda m: f"{m.member_number.lower()}@example.com")
    enrolled_on = dt.date(2022, 1, 1)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    member = factory.SubFactory(MemberFactory)
    program = factory.SubFactory(ProgramFactory)
    membership_number = factory.Sequence(lambda n: f"S{n:010d}")
    joined_on = dt.date(2022, 1, 1)


class TierPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TierPeriod

    membership = factory.SubFactory(MembershipFactory)
    tier = factory.SubFactory(TierFactory)
    valid_from = dt.date(2022, 1, 1)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("program", "code")

    program = factory.SubFactory(ProgramFactory)
    code = factory.Sequence(lambda n: f"STORE{n}")
    name = factory.LazyAttribute(lambda loc: f"Store {loc.code}")
    kind = Location.Kind.STORE


def api_token(user):
    """A new API token for `user` (django-rest-knox: only its hash is stored), to send as `Authorization: Token …`."""
    from loyalty.api_tokens import issue_token

    return issue_token(user)[1]
