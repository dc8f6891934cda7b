"""Groups CSR, Supervisor, Admin and Member with their permissions."""

from django.db import migrations

from loyalty.roles import sync_roles


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0002_postgres_no_overlap"),
        ("retro", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
