"""The pool's program link: checked per statement by triggers on PostgreSQL, as strictly as a foreign key."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError

from retro.models import RetroTransaction
from tests.factories import ProgramFactory
from tests.retro.factories import RetroTransactionFactory

pytestmark = pytest.mark.django_db


def _insert_sql(program_id, source_id):
    return (
        "INSERT INTO retro_retrotransaction (program_id, transaction_type, source_id, location_code, occurred_at,"
        " occurred_on, reference, currency, register_id, card_last_four, attributes, match_key, expires_on,"
        " imported_at) VALUES (%s, 'purchase', %s, '', now(), current_date, '', '', '', '', '{}', 'k',"
        " current_date, now())",
        [program_id, source_id],
    )


def test_pool_row_naming_a_missing_program_is_refused():
    program = ProgramFactory()
    with pytest.raises(IntegrityError, match="existing program"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(*_insert_sql(program.pk + 10_000, "GHOST-1"))
    assert not RetroTransaction.objects.filter(source_id="GHOST-1").exists()


def test_one_missing_program_refuses_the_whole_statement():
    program = ProgramFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO retro_retrotransaction (program_id, transaction_type, source_id, location_code,"
                " occurred_at, occurred_on, reference, currency, register_id, card_last_four, attributes,"
                " match_key, expires_on, imported_at)"
                " SELECT p, 'purchase', 'MIX-' || p, '', now(), current_date, '', '', '', '', '{}', 'k',"
                " current_date, now() FROM unnest(%s::bigint[]) p",
                [[program.pk, program.pk + 10_000]],
            )
    assert not RetroTransaction.objects.filter(source_id__startswith="MIX-").exists()


def test_moving_a_transaction_to_a_missing_program_is_refused():
    txn = RetroTransactionFactory()
    with pytest.raises(IntegrityError, match="existing program"), transaction.atomic():
        RetroTransaction.objects.filter(pk=txn.pk).update(program_id=txn.program_id + 10_000)
    txn.refresh_from_db()
    assert txn.program_id == txn.program.pk


def test_program_with_pool_transactions_cannot_be_deleted_even_in_sql():
    txn = RetroTransactionFactory()
    with pytest.raises(IntegrityError, match="still has retro transactions"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM loyalty_program WHERE id = %s", [txn.program_id])
    assert RetroTransaction.objects.filter(pk=txn.pk).exists()


def test_django_refuses_to_delete_a_program_with_pool_transactions():
    txn = RetroTransactionFactory()
    with pytest.raises(ProtectedError):
        txn.program.delete()


def test_program_without_pool_transactions_can_be_deleted():
    program = ProgramFactory()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM loyalty_program WHERE id = %s", [program.pk])
        assert cursor.rowcount == 1
