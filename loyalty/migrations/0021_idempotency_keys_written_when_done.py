"""An idempotency key is written once, with its response, in the transaction of the request's effect; a request
in flight is an advisory lock, not a row. A row left "in flight" (its request's process died) never had an
effect, so it goes."""

from django.db import migrations


def forget_requests_in_flight(apps, schema_editor):
    apps.get_model("loyalty", "IdempotencyKey").objects.filter(state="in_flight").delete()


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0020_api_tokens_hashed_with_knox")]

    operations = [
        migrations.RunPython(forget_requests_in_flight, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotencykey", name="state"),
    ]
