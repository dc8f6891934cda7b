"""Shared by data migrations: SQL that only PostgreSQL has (exclusion constraints, triggers)."""


def postgres_only(statements):
    """A RunPython function executing `statements` on PostgreSQL and doing nothing elsewhere."""

    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply
