"""Retro Claim Activity at scale: status, program and channel filters in the grid's sorts, claims needing key values.

Built CONCURRENTLY (so the migration is not atomic): claims keep arriving while a large table is indexed.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("retro", "0007_claim_outcomes_bounds_and_feeds"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["status", "submitted_at", "id"], name="retro_claim_status_time"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["program", "submitted_at", "id"], name="retro_claim_program_time"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["status", "number"], name="retro_claim_status_number"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["program", "number"], name="retro_claim_program_number"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["channel", "submitted_at", "id"], name="retro_claim_channel_time"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(fields=["channel", "number"], name="retro_claim_channel_number"),
        ),
        AddIndexConcurrently(
            model_name="retroclaim",
            index=models.Index(
                condition=models.Q(("match_key__startswith", "!")),
                fields=["submitted_at", "id"],
                name="retro_claim_needs_keys",
            ),
        ),
    ]
