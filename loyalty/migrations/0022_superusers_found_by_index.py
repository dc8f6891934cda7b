"""The superusers, found without reading every login: the claims screens list who may own a claim (its
holders of a permission, and the superusers) on every page, and the user table holds every member's portal
login as well as the staff (20,000 logins made the list cost 3 ms; a million would cost a hundred)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0021_idempotency_keys_written_when_done"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS loyalty_auth_user_superusers ON auth_user (id) WHERE is_superuser",
            "DROP INDEX IF EXISTS loyalty_auth_user_superusers",
        ),
    ]
