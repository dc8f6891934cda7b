"""API tokens move from REST framework's authtoken (kept in clear) to django-rest-knox (kept as a SHA-512 digest).

Each clear token becomes a knox token whose digest is that of the same text, so every partner's token keeps
working without a change on their side; it expires API_TOKEN_TTL_DAYS after this migration (not after its
creation: an old token would otherwise stop at once), and its creation date is kept. Then the clear tokens are
dropped: authtoken's table, its content types (with their permissions) and its migration records, since the app
is no longer installed. Backwards, nothing is undone: the clear tokens cannot be recovered from their digests.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from knox.crypto import hash_token
from knox.settings import CONSTANTS

CLEAR_TABLE = "authtoken_token"


def hash_clear_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if CLEAR_TABLE in connection.introspection.table_names():
        AuthToken = apps.get_model("knox", "AuthToken")
        expiry = timezone.now() + dt.timedelta(days=settings.API_TOKEN_TTL_DAYS)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT key, user_id, created FROM {CLEAR_TABLE} ORDER BY created")
            for key, user_id, created in cursor.fetchall():
                # knox's own scheme (loyalty.api_tokens.stored_fields): the digest, and the prefix to find it by.
                digest, token_key = hash_token(key), key[: CONSTANTS.TOKEN_KEY_LENGTH]
                AuthToken.objects.update_or_create(
                    digest=digest, defaults={"token_key": token_key, "user_id": user_id, "expiry": expiry}
                )
                # created is auto_now_add: set apart, so that it keeps the clear token's date.
                AuthToken.objects.filter(digest=digest).update(created=created)
            cursor.execute(f"DROP TABLE {CLEAR_TABLE}")
    apps.get_model("contenttypes", "ContentType").objects.filter(app_label="authtoken").delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0019_job_runs_and_outbox_request_id"),
        ("knox", "0009_extend_authtoken_field"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(hash_clear_tokens, migrations.RunPython.noop, elidable=False)]
