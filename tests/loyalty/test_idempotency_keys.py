"""loyalty.idempotency on its own: the key's response is kept with the request's effect, and only then."""

import pytest
from django.db import connections, transaction

from loyalty import idempotency
from loyalty.models import IdempotencyKey, Member
from tests.concurrency import key_in_flight
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
PAYLOAD = {"path": "/api/x/", "body": {"points": 10}}


def enrol(number):
    Member.objects.create(member_number=number, first_name="Ada", last_name="Lovelace", enrolled_on="2026-01-01")
    return 201, {"member": number}


def call(user, respond, key="k-1", payload=PAYLOAD):
    return idempotency.respond_once(user=user, scope="test.enrol", key=key, payload=payload, respond=respond)


def test_a_repeat_gets_the_first_response_and_does_nothing_again():
    user = UserFactory()
    assert call(user, lambda: enrol("M1")) == (201, {"member": "M1"})
    assert call(user, lambda: enrol("M2")) == (201, {"member": "M1"})
    assert list(Member.objects.values_list("member_number", flat=True)) == ["M1"]


def test_a_failed_request_keeps_no_key_and_no_effect():
    user = UserFactory()

    def fails():
        enrol("M1")
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        call(user, fails)
    assert not IdempotencyKey.objects.exists() and not Member.objects.exists()
    assert call(user, lambda: enrol("M1"))[0] == 201


def test_a_key_held_by_its_running_first_request_is_409_and_nothing_runs():
    user = UserFactory()
    with key_in_flight(user=user, scope="test.enrol", key="k-1"), pytest.raises(idempotency.KeyProblem) as refused:
        call(user, lambda: enrol("M1"))
    assert refused.value.status == 409 and refused.value.code == "key_in_flight"
    assert not Member.objects.exists()


def test_a_first_request_finishing_during_this_one_wins_and_this_one_is_undone():
    # The first request committed after this one read the key and before it took the lock: the unique
    # constraint on the key refuses this one's record, its effect is rolled back, and it answers as a repeat.
    user = UserFactory()

    def racing():
        first = connections.create_connection("default")
        with first.cursor() as cursor:
            cursor.execute(
                "INSERT INTO loyalty_idempotencykey (user_id, scope, key, fingerprint, response_status, "
                "response_body, created_at) VALUES (%s, 'test.enrol', 'k-1', %s, 201, '{\"member\": \"M0\"}', now())",
                [user.pk, idempotency.fingerprint(PAYLOAD)],
            )
        first.close()
        return enrol("M1")

    assert call(user, racing) == (201, {"member": "M0"})
    assert not Member.objects.exists()


def test_the_same_key_with_another_body_is_422():
    user = UserFactory()
    call(user, lambda: enrol("M1"))
    with pytest.raises(idempotency.KeyProblem) as refused:
        call(user, lambda: enrol("M2"), payload={"path": "/api/x/", "body": {"points": 11}})
    assert refused.value.status == 422 and refused.value.code == "key_reused"


def test_an_effect_that_opens_no_savepoint_has_its_refusal_kept_and_its_writes_undone():
    # exchanges' partner writes ask effect_savepoint(): inside respond_once they open none, so a refusal
    # rolls back the key's whole transaction; the refusal is then kept in a transaction of its own.
    user = UserFactory()
    runs = []

    def refuses():
        runs.append(1)
        try:
            with transaction.atomic(savepoint=idempotency.effect_savepoint()):
                enrol("M1")
                raise ValueError("no")
        except ValueError:
            return 422, {"code": "refused"}

    assert idempotency.effect_savepoint() is True  # outside respond_once: a savepoint as usual
    assert call(user, refuses) == (422, {"code": "refused"})
    assert not Member.objects.exists()
    assert list(IdempotencyKey.objects.values_list("response_status", flat=True)) == [422]
    assert call(user, refuses) == (422, {"code": "refused"}) and len(runs) == 1


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        ({"member": "M1", "points": [1, 2]}, {"member": "M1", "points": [1, 2]}),
        ({"member": "Zoë €"}, {"member": "Zoë €"}),  # escaped in the JSON, kept as it is
        ({"bad\x00key": "a\x00b", "lone": "x\ud800"}, {"bad\ufffdkey": "a\ufffdb", "lone": "x\ufffd"}),
    ],
)
def test_an_answer_is_kept_as_json_with_what_jsonb_cannot_hold_replaced(answer, kept):
    user = UserFactory()
    assert call(user, lambda: (400, answer)) == (400, answer)  # the first request gets its own answer
    assert IdempotencyKey.objects.get().response_body == kept
    assert call(user, lambda: (201, {})) == (400, kept)


def test_as_text_answers_first_and_repeat_with_the_json_kept():
    user = UserFactory()

    def once(respond):
        return idempotency.respond_once(user=user, scope="test.enrol", key="k-1", payload=PAYLOAD, respond=respond,
                                        as_text=True)  # fmt: skip

    status, first = once(lambda: enrol("M1"))
    status_again, again = once(lambda: enrol("M2"))
    assert status == status_again == 201 and isinstance(first, idempotency.KeptText)
    assert first.data() == again.data() == {"member": "M1"} == IdempotencyKey.objects.get().response_body
