"""Retro's hand-written SQL: matching, the daily pass, submission's hot statements and the import's COPY.

Everything else is the ORM. These statements run once per submission, per
batch of the daily pass or per chunk of an import, where the ORM would cost
more than the SQL; each is built once per process from the models' `_meta`
(see loyalty.sql.Names) and prepared by psycopg. The rule that decides which
pool transactions a claim may take is written once: `claimable()`.
"""

from functools import cache

from django.db import connection

from loyalty.models import Location
from loyalty.sql import Names, joined_columns, row_reader
from retro.models import (
    Flight,
    RetroClaim,
    RetroClaimKey,
    RetroClaimKeyField,
    RetroClaimStatus,
    RetroSettings,
    RetroTransaction,
)

S = RetroClaimStatus


def claimable(t, *, program, transaction_type, keys, today, membership):
    """The one rule: pool transactions (alias `t`) a claim may take, claimed or not.

    Same program, type and stored key; not expired on the program's `today`; and never a
    transaction this member once had reversed. Each argument is SQL (a placeholder or a column).
    `membership` None: the caller has routed elsewhere every claim whose member had a
    transaction of this key reversed (reversed_before_statement), so the check is moot.
    """
    pool, claims = Names(RetroTransaction), Names(RetroClaim)
    rule = (
        f"{t}.{pool.program} = {program} AND {t}.{pool.transaction_type} = {transaction_type}"
        f" AND {t}.{pool.match_key} IN ({keys}) AND {t}.{pool.expires_on} >= {today}"
    )
    if membership is not None:
        rule += (
            f" AND NOT EXISTS (SELECT 1 FROM {claims.table} r WHERE r.{claims.membership} = {membership}"
            f" AND r.{claims.status} = %s AND r.{claims.matched_transaction} = {t}.{pool.pk})"
        )
    return rule


def unclaimed(t):
    return f"{t}.{Names(RetroTransaction).claimed_by} IS NULL"


# --- one claim: submission and the matching service ---------------------------------------------


def claim_rule_params(claim, today):
    """Parameters of claimable() for one claim, placeholders in order."""
    return [claim.program_id, claim.transaction_type, claim.match_key, today, claim.membership_id, S.REVERSED]


@cache
def reserve_statement():
    """Take the oldest unclaimed claimable transaction for a claim, with its location: one UPDATE … RETURNING.

    SKIP LOCKED passes over a row another claim is taking right now; the conditional UPDATE and the
    claimed_by one-to-one constraint give the database the final word. Parameters: claim_rule_params,
    then the claim's id. Returns (sql, read transaction, read location).
    """
    pool, loc = Names(RetroTransaction), Names(Location)
    txn_fields = list(RetroTransaction._meta.concrete_fields)
    location_fields = list(Location._meta.concrete_fields)
    columns = [f"t.{connection.ops.quote_name(f.column)}" for f in txn_fields]
    columns += [f"l.{connection.ops.quote_name(f.column)}" for f in location_fields]
    rule = claimable("c", program="%s", transaction_type="%s", keys="%s", today="%s", membership="%s")
    # MATERIALIZED: the pick runs exactly once. As a plain subquery the planner may rescan it per
    # pool row, and a rescan skips the row this statement just locked and takes the next one too.
    sql = (
        f"WITH pick AS MATERIALIZED (SELECT c.{pool.pk} AS id, c.{pool.program} AS program_id,"
        f" c.{pool.location_code} AS location_code FROM {pool.table} c WHERE {rule} AND {unclaimed('c')}"
        f" ORDER BY c.{pool.occurred_at}, c.{pool.pk} LIMIT 1 FOR UPDATE SKIP LOCKED)"
        f" UPDATE {pool.table} t SET {pool.claimed_by} = %s"
        f" FROM pick LEFT JOIN {loc.table} l ON l.{loc.program} = pick.program_id"
        f" AND l.{loc.code} = pick.location_code AND pick.location_code <> ''"
        f" WHERE t.{pool.pk} = pick.id AND {unclaimed('t')} RETURNING {', '.join(columns)}"
    )
    return sql, row_reader(RetroTransaction, txn_fields, 0), row_reader(Location, location_fields, len(txn_fields))


@cache
def any_claimable_statement():
    """Whether the claim has any claimable transaction, taken or not (Already Claimed vs Outstanding)."""
    rule = claimable("c", program="%s", transaction_type="%s", keys="%s", today="%s", membership="%s")
    return f"SELECT EXISTS (SELECT 1 FROM {Names(RetroTransaction).table} c WHERE {rule})"


@cache
def release_statement():
    """Put a transaction back in the pool, only if this claim holds it. Parameters: transaction, claim."""
    pool = Names(RetroTransaction)
    return f"UPDATE {pool.table} SET {pool.claimed_by} = NULL WHERE {pool.pk} = %s AND {pool.claimed_by} = %s"


@cache
def submission_setup_statement():
    """The program's retro settings with the key fields of one transaction type, in key order.

    Parameters: program, transaction type. Returns (sql, read settings, read key, read key field).
    """
    parts = [("s", RetroSettings), ("k", RetroClaimKey), ("f", RetroClaimKeyField)]
    columns, readers = joined_columns(parts)
    key, field, settings = Names(RetroClaimKey), Names(RetroClaimKeyField), Names(RetroSettings)
    sql = (
        f"SELECT {', '.join(columns)} FROM {key.table} k"
        f" JOIN {field.table} f ON f.{field.key} = k.{key.pk}"
        f" LEFT JOIN {settings.table} s ON s.{settings.program} = k.{key.program}"
        f" WHERE k.{key.program} = %s AND k.{key.transaction_type} = %s ORDER BY f.{field.position}, f.{field.pk}"
    )
    return (sql, *readers)


@cache
def insert_claim_statement():
    """Insert a claim with its number (prefix + id, at least 8 digits) taken from the id sequence.

    Parameters: the number prefix, then the values of claim_insert_fields(). Returns the id and the
    member's name (the insert trigger's, migration retro 0010).
    """
    claims = Names(RetroClaim)
    fields = claim_insert_fields()
    qn = connection.ops.quote_name
    # lpad to at least 8 digits, never truncating: the same text as services.claim_number().
    sequence = f"pg_get_serial_sequence('{RetroClaim._meta.db_table}', '{RetroClaim._meta.pk.column}')"
    return (
        f"WITH n AS (SELECT nextval({sequence}) AS id)"
        f" INSERT INTO {claims.table} ({claims.pk}, {claims.number}, {', '.join(qn(f.column) for f in fields)})"
        " VALUES ((SELECT id FROM n), (SELECT %s || lpad(id::text, greatest(8, length(id::text)), '0') FROM n),"
        f" {', '.join(['%s'] * len(fields))}) RETURNING {claims.pk}, {claims.member_name}"
    )


@cache
def claim_insert_fields():
    return [f for f in RetroClaim._meta.concrete_fields if f.name not in ("id", "number")]


# --- the daily pass: a batch of claims at once --------------------------------------------------

PASS_CLAIM_COLUMNS = ("pk", "number", "membership_id", "attempt_count")
PASS_TXN_COLUMNS = (
    "pk", "occurred_at", "occurred_on", "amount", "currency", "attributes", "location_code", "source_id",
)  # fmt: skip


@cache
def assign_statement():
    """Every Outstanding claim of a batch paired with its transaction: oldest claim takes oldest transaction.

    ROW_NUMBER over the batch's claims and over their free claimable transactions, joined on the
    stored key; both sides locked with SKIP LOCKED. The same statement marks each paired transaction
    claimed, and counts one more attempt on the claims that stay Outstanding (no transaction free and
    none taken: nothing else changes on them). Each row returned: the claim's PASS_CLAIM_COLUMNS, the
    transaction's PASS_TXN_COLUMNS (NULLs when none is free) and whether some claimable transaction
    exists at all (Already Claimed). Parameters by name: ids, outstanding, program, type, today, now.
    """
    claims, pool = Names(RetroClaim), Names(RetroTransaction)
    free_rule = claimable(
        "t", program="%(program)s", transaction_type="%(type)s", keys="SELECT DISTINCT match_key FROM batch",
        today="%(today)s", membership=None,
    )  # fmt: skip
    any_rule = claimable(
        "t", program="%(program)s", transaction_type="%(type)s", keys="c.match_key", today="%(today)s",
        membership=None,
    )  # fmt: skip
    claim_columns = ", ".join(f"c.{getattr(claims, name)}" for name in PASS_CLAIM_COLUMNS if name != "pk")
    txn_columns = ", ".join(f"t.{getattr(pool, name)}" for name in PASS_TXN_COLUMNS if name != "pk")
    paired_txn_columns = ", ".join(f"f.{getattr(pool, n)}" for n in PASS_TXN_COLUMNS if n != "pk")
    return f"""
WITH batch AS (
    SELECT c.{claims.pk} AS id, {claim_columns}, c.{claims.submitted_at} AS submitted_at,
           c.{claims.match_key} AS match_key
    FROM {claims.table} c WHERE c.{claims.pk} = ANY(%(ids)s) AND c.{claims.status} = %(outstanding)s
    FOR UPDATE SKIP LOCKED
), ranked_claims AS (
    SELECT batch.*, row_number() OVER (PARTITION BY match_key ORDER BY submitted_at, id) AS rn FROM batch
), free AS (
    SELECT t.{pool.pk} AS id, t.{pool.match_key} AS match_key, {txn_columns}
    FROM {pool.table} t WHERE {free_rule} AND {unclaimed('t')}
    FOR UPDATE OF t SKIP LOCKED
), ranked_free AS (
    SELECT free.*, row_number() OVER (PARTITION BY match_key ORDER BY {pool.occurred_at}, id) AS rn FROM free
), paired AS MATERIALIZED (
    SELECT c.id, {", ".join(f"c.{getattr(claims, n)}" for n in PASS_CLAIM_COLUMNS if n != "pk")},
           f.id AS txn_id, {paired_txn_columns},
           f.id IS NULL AND EXISTS (SELECT 1 FROM {pool.table} t WHERE {any_rule}) AS already_claimed
    FROM ranked_claims c LEFT JOIN ranked_free f ON f.match_key = c.match_key AND f.rn = c.rn
), claimed AS (
    -- "= ANY(ARRAY(…))": the rows are found by primary key. A plain join to the CTE, whose size the
    -- planner cannot know, made it read the whole pool for every batch.
    UPDATE {pool.table} t SET {pool.claimed_by} = p.id FROM paired p
    WHERE t.{pool.pk} = ANY(ARRAY(SELECT txn_id FROM paired WHERE txn_id IS NOT NULL))
      AND t.{pool.pk} = p.txn_id AND {unclaimed('t')}
), attempted AS (
    UPDATE {claims.table} c
    SET {claims.attempt_count} = c.{claims.attempt_count} + 1, {claims.last_attempt_at} = %(now)s
    WHERE c.{claims.pk} = ANY(ARRAY(SELECT id FROM paired WHERE txn_id IS NULL AND NOT already_claimed))
)
SELECT * FROM paired
"""


@cache
def reversed_before_statement():
    """Claims of a batch whose member once had a transaction of this key reversed.

    The set-based pairing cannot apply claimable()'s per-member exclusion, so these go through
    the one-claim matching service, which does. Parameters by name: ids, reversed.
    """
    claims, pool = Names(RetroClaim), Names(RetroTransaction)
    return (
        f"SELECT c.{claims.pk} FROM {claims.table} c WHERE c.{claims.pk} = ANY(%(ids)s) AND EXISTS ("
        f" SELECT 1 FROM {claims.table} r JOIN {pool.table} t ON t.{pool.pk} = r.{claims.matched_transaction}"
        f" WHERE r.{claims.membership} = c.{claims.membership} AND r.{claims.status} = %(reversed)s"
        f" AND t.{pool.program} = c.{claims.program} AND t.{pool.match_key} = c.{claims.match_key})"
    )


@cache
def release_transactions_statement():
    """Return transactions to the pool, pairwise, only where the claim holds it. Parameters: txn ids, claim ids."""
    pool = Names(RetroTransaction)
    return (
        f"UPDATE {pool.table} t SET {pool.claimed_by} = NULL"
        " FROM unnest(%s::bigint[], %s::bigint[]) AS u(txn_id, claim_id)"
        f" WHERE t.{pool.pk} = u.txn_id AND t.{pool.claimed_by} = u.claim_id"
    )


# --- the import: COPY into the pool -------------------------------------------------------------

# The fields a validated row carries, in COPY order (program, batch and time are added by the writer).
ROW_FIELDS = (
    "transaction_type", "source_id", "location_code", "occurred_at", "occurred_on", "reference", "amount",
    "currency", "register_id", "card_last_four", "attributes", "match_key", "expires_on",
)  # fmt: skip
STAGING_TABLE = "retro_import_staging"


@cache
def import_statements():
    """The import's statements: staging DDL, COPY to staging and to the pool, the look-up and the staged INSERT."""
    pool = Names(RetroTransaction)
    fields = [RetroTransaction._meta.get_field(name) for name in ROW_FIELDS]
    columns = ", ".join(getattr(pool, name) for name in ROW_FIELDS)
    added = f"{pool.program}, {pool.import_batch}, {pool.imported_at}"
    staging_columns = ", ".join(f"{getattr(pool, f.name)} {f.db_type(connection)}" for f in fields)
    return {
        "staging": f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGING_TABLE} ({staging_columns})",
        "truncate": f"TRUNCATE {STAGING_TABLE}",
        "copy_staging": f"COPY {STAGING_TABLE} ({columns}) FROM STDIN",
        "copy_direct": f"COPY {pool.table} ({added}, {columns}) FROM STDIN",
        "existing": (
            f"SELECT {pool.source_id} FROM {pool.table} WHERE {pool.program} = %s AND {pool.source_id} = ANY(%s)"
        ),
        # Key order: the chunk walks the match_key indexes in order instead of hopping around them.
        "insert_staged": (
            f"INSERT INTO {pool.table} ({added}, {columns}) SELECT %s, %s, %s, {columns} FROM {STAGING_TABLE}"
            f" ORDER BY {pool.match_key} ON CONFLICT ({pool.program}, {pool.source_id}) DO NOTHING"
        ),
    }


@cache
def waiting_claim_keys_statement():
    """(transaction type, key) of the Outstanding claims that an import's new transactions answer.

    Walks the program's Outstanding claims, not the file: each is one probe of the pool's key index,
    so a million-row file with few waiting claims costs as little as a small one. Parameters:
    program, the Outstanding status, the import batch.
    """
    claims, pool = Names(RetroClaim), Names(RetroTransaction)
    return (
        f"SELECT DISTINCT c.{claims.transaction_type}, c.{claims.match_key} FROM {claims.table} c"
        f" WHERE c.{claims.program} = %s AND c.{claims.status} = %s AND EXISTS ("
        f"SELECT 1 FROM {pool.table} t WHERE t.{pool.program} = c.{claims.program}"
        f" AND t.{pool.match_key} = c.{claims.match_key} AND t.{pool.transaction_type} = c.{claims.transaction_type}"
        f" AND t.{pool.import_batch} = %s)"
    )


# --- the flight feed's import (retro.flights.imports) ----------------------------------------------------

FLIGHT_ROW_FIELDS = (
    "ticket_number", "coupon_number", "pnr", "operating_carrier", "marketing_carrier", "flight_number", "flight_date",
    "origin", "destination", "cabin", "booking_class", "passenger_name", "distance", "flown",
)  # fmt: skip
FLIGHT_STAGING_TABLE = "retro_flight_import_staging"


@cache
def flight_import_statements():
    """COPY of feed coupons straight into the table, or through a staging table when some are already there."""
    flights = Names(Flight)
    fields = [Flight._meta.get_field(name) for name in FLIGHT_ROW_FIELDS]
    columns = ", ".join(getattr(flights, name) for name in FLIGHT_ROW_FIELDS)
    added = f"{flights.program}, {flights.imported_at}"
    staging_columns = ", ".join(f"{getattr(flights, f.name)} {f.db_type(connection)}" for f in fields)
    return {
        "staging": f"CREATE TEMPORARY TABLE IF NOT EXISTS {FLIGHT_STAGING_TABLE} ({staging_columns})",
        "truncate": f"TRUNCATE {FLIGHT_STAGING_TABLE}",
        "copy_staging": f"COPY {FLIGHT_STAGING_TABLE} ({columns}) FROM STDIN",
        "copy_direct": f"COPY {flights.table} ({added}, {columns}) FROM STDIN",
        "insert_staged": (
            f"INSERT INTO {flights.table} ({added}, {columns}) SELECT %s, %s, {columns} FROM {FLIGHT_STAGING_TABLE}"
            f" ON CONFLICT ({flights.ticket_number}, {flights.coupon_number}) DO NOTHING"
        ),
    }
