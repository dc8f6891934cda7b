"""Member search at scale: trigram indexes for names and phone digits, prefix indexes for numbers and e-mails.

Built CONCURRENTLY (so the migration is not atomic): on a large member base a plain CREATE INDEX
would block enrolments and profile edits for as long as the GIN indexes take to build.
"""

import django.contrib.postgres.indexes
import django.db.models.functions.text
from django.contrib.postgres.operations import AddIndexConcurrently, TrigramExtension
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("loyalty", "0011_used_rule_sets_read_only"),
    ]

    operations = [
        TrigramExtension(),
        AddIndexConcurrently(
            model_name="member",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_name"], name="member_name_trgm", opclasses=["gin_trgm_ops"]
            ),
        ),
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("member_number"), name="text_pattern_ops"
                ),
                name="member_number_prefix",
            ),
        ),
        AddIndexConcurrently(
            model_name="member",
            index=models.Index(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("email"), name="text_pattern_ops"
                ),
                name="member_email_prefix",
            ),
        ),
        AddIndexConcurrently(
            model_name="member",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.indexes.OpClass(
                    models.Func(
                        models.F("phone"),
                        models.Value("[^0-9]+"),
                        models.Value(""),
                        models.Value("g"),
                        function="REGEXP_REPLACE",
                        output_field=models.CharField(),
                    ),
                    name="gin_trgm_ops",
                ),
                name="member_phone_trgm",
            ),
        ),
        AddIndexConcurrently(
            model_name="membership",
            index=models.Index(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.text.Upper("membership_number"), name="text_pattern_ops"
                ),
                name="membership_number_prefix",
            ),
        ),
    ]
