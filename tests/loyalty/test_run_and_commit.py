"""loyalty.sql.run_and_commit: the last write of a transaction carries its COMMIT, one round trip for both.

Real transactions (transaction=True): inside a test's own transaction there is nothing to commit.
"""

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.transaction import TransactionManagementError
from psycopg.pq import TransactionStatus

from loyalty import sql
from loyalty.models import IdempotencyKey
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


INSERT = """INSERT INTO loyalty_idempotencykey (user_id, scope, key, fingerprint, response_status, response_body,
                                                 created_at)
            VALUES (%s, 'tests', %s, 'f', 201, '{"ok": true}', now()) RETURNING id"""


def _insert_and_commit(user, key):
    ((pk,),) = sql.run_and_commit(INSERT, [user.pk, key])
    return pk


def _answer(user, key):
    return IdempotencyKey(user_id=user.pk, scope="tests", key=key, fingerprint="f", response_status=201,
                          response_body={"ok": True})  # fmt: skip


def _seen_elsewhere(key):
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM loyalty_idempotencykey WHERE key = %s", [key])
            return cursor.fetchone()[0] == 1
    finally:
        other.close()


def test_the_insert_is_committed_before_the_atomic_block_ends_and_its_on_commit_callbacks_still_run():
    user, ran = UserFactory(), []
    with transaction.atomic():
        transaction.on_commit(lambda: ran.append("after"))
        kept = _insert_and_commit(user, "k-1")
        # Committed already: another connection sees the row, and the connection is idle (the block's own
        # commit will send nothing).
        assert kept and _seen_elsewhere("k-1")
        assert connection.connection.info.transaction_status == TransactionStatus.IDLE
        assert ran == []
    assert ran == ["after"] and IdempotencyKey.objects.get(key="k-1").pk == kept


def test_a_refused_insert_commits_nothing_and_the_block_rolls_back():
    user = UserFactory()
    IdempotencyKey.objects.create(user_id=user.pk, scope="tests", key="taken", fingerprint="f", response_status=201,
                                  response_body={})  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        _answer(user, "written-before").save()
        _insert_and_commit(user, "taken")  # the unique key: the COMMIT after it never runs
    assert not IdempotencyKey.objects.filter(key="written-before").exists()
    assert IdempotencyKey.objects.filter(key="taken").count() == 1
    assert connection.connection.info.transaction_status == TransactionStatus.IDLE


def test_it_is_refused_anywhere_but_the_last_write_of_the_outermost_block():
    user = UserFactory()
    with pytest.raises(TransactionManagementError):
        _insert_and_commit(user, "no-block")
    with transaction.atomic(), transaction.atomic():
        assert not sql.last_in_transaction()
        with pytest.raises(TransactionManagementError):
            _insert_and_commit(user, "nested")
    assert not IdempotencyKey.objects.filter(key__in=["no-block", "nested"]).exists()
