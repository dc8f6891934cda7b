"""Shared by data migrations: hand-written SQL (exclusion constraints, triggers) as a reversible RunPython step."""


def run_statements(statements):
    """A RunPython function executing `statements` in order."""

    def apply(apps, schema_editor):
        for statement in statements:
            schema_editor.execute(statement)

    return apply
