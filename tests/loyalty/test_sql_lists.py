"""Fixed and parameterised lists read by prepared statements (loyalty.sql.instances_of / instances_for), and the
AnyOf lookup that fetches a subquery's few ids by index."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from loyalty import sql
from loyalty.lookups import AnyOf
from loyalty.models import Location, Program
from tests.factories import LocationFactory, ProgramFactory

pytestmark = pytest.mark.django_db


def _stores(program, held):
    return Location.objects.filter(program=program, kind=Location.Kind.STORE) | Location.objects.filter(pk=held)


def test_each_run_puts_in_its_own_values(db):
    shop, outlet = ProgramFactory(), ProgramFactory(code="outlet", name="Outlet")
    a, b = LocationFactory(program=shop, code="A"), LocationFactory(program=shop, code="B")
    elsewhere = LocationFactory(program=outlet, code="C")
    first = sql.instances_for("tests.stores", _stores, shop.pk, 0)
    assert sorted(loc.code for loc in first) == ["A", "B"]
    with CaptureQueriesContext(connection) as queries:
        second = sql.instances_for("tests.stores", _stores, outlet.pk, a.pk)
    assert sorted(loc.code for loc in second) == ["A", "C"]
    assert str(outlet.pk) in queries[0]["sql"] and "7340" not in queries[0]["sql"]  # the values, not the stand-ins
    assert [loc.pk for loc in second if loc.code == "C"] == [elsewhere.pk] and b.pk not in {loc.pk for loc in second}


def test_a_value_that_never_reaches_the_sql_is_refused(db):
    with pytest.raises(ValueError, match="every value must reach the SQL"):
        sql.instances_for("tests.ignored", lambda program: Program.objects.all(), 1)


def test_any_of_finds_what_in_finds(db):
    User = get_user_model()
    staff = [User.objects.create_user(f"staff{i}", is_superuser=i == 0) for i in range(3)]
    User.objects.create_user("member")
    holders = User.objects.filter(username__startswith="staff").values("pk")
    found = User.objects.filter(AnyOf(F("pk"), holders)).order_by("pk")
    assert list(found) == staff
    assert "= ANY(ARRAY(" in str(found.query)


def test_superusers_are_found_by_an_index_of_their_own(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'loyalty_auth_user_superusers'")
        (definition,) = cursor.fetchone()
    assert "WHERE is_superuser" in definition
