"""Seed 002's lists of values (claim types, origins, note activities), the notes' guard, the daily stay calculation."""

from django.db import migrations

CLAIM_TYPES = [("STAY", "Missing stay credit"), ("NEWCARD", "Lost or replaced card"), ("POINTS", "Points question"),
               ("GOODWILL", "Service recovery"), ("OTHER", "Other")]  # fmt: skip
ORIGINS = [("EMAIL", "E-mail"), ("FAX", "Fax"), ("PHONE", "Phone call"), ("WEB", "Web form"), ("LETTER", "Letter"),
           ("FRONT-DESK", "Front desk")]  # fmt: skip
ACTIVITY_TYPES = [("REPLY", "Reply"), ("CALL-PROPERTY", "Call Property for Verification"),
                  ("CALLED-BACK", "Caller Called Back"), ("REMARKS", "Remarks")]  # fmt: skip
TASK_NAME = "Membership claims: daily stay calculation"

# Notes are a chronology: the database refuses to change or remove one, whatever writes to it.
NOTES_GUARD = """
CREATE FUNCTION claims_note_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Claim notes are never edited or deleted: add a new note.';
END $$;
CREATE TRIGGER claims_note_append_only BEFORE UPDATE OR DELETE ON claims_claimnote
    FOR EACH ROW EXECUTE FUNCTION claims_note_is_append_only();
"""
DROP_NOTES_GUARD = """
DROP TRIGGER IF EXISTS claims_note_append_only ON claims_claimnote;
DROP FUNCTION IF EXISTS claims_note_is_append_only();
"""


def create_values(apps, schema_editor):
    for model, values in (("ClaimType", CLAIM_TYPES), ("ClaimOrigin", ORIGINS), ("NoteActivityType", ACTIVITY_TYPES)):
        Model = apps.get_model("claims", model)
        for code, label in values:
            Model.objects.get_or_create(code=code, defaults={"label": label})
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "claims.calculate_stays",
            "crontab": crontab,
            "enabled": True,
            "description": "Calculate the points of checked-out stays whose delay after check-out has passed.",
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_membership_claims"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_values, remove_schedule),
        migrations.RunSQL(NOTES_GUARD, DROP_NOTES_GUARD),
    ]
