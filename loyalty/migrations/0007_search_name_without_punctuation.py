"""Recompute members' search names now that apostrophes and hyphens are normalised away."""

from django.db import migrations


def recompute(apps, schema_editor):
    from loyalty.models.members import normalise_search_text

    Member = apps.get_model("loyalty", "Member")
    batch = []
    for member in Member.objects.only("id", "first_name", "last_name").iterator(chunk_size=2000):
        member.search_name = normalise_search_text(f"{member.first_name} {member.last_name}")
        batch.append(member)
        if len(batch) == 2000:
            Member.objects.bulk_update(batch, ["search_name"])
            batch = []
    Member.objects.bulk_update(batch, ["search_name"])


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0006_entry_membership_foreign_key")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
