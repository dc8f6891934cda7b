"""Claims carry their member's search name, kept by the database, so the grid sorts by member off one table.

Sorted by member, a page of a few thousand claims (a rare status, one week) joined every claim to
its membership and member before sorting: two index probes a claim, 30 to 80 ms on a million claims.
With the name on the claim the sort reads the claims alone, and (member_name, id) serves it unfiltered.

Triggers keep the copy right whatever writes the rows (the ORM, COPY, raw SQL): a claim takes its
member's name when inserted without it, when its membership changes or when a write brings a stale value (a
model instance saved again); a renamed member's claims, and a membership moved to another member,
follow at once.
"""

from django.conf import settings
from django.db import migrations, models

from loyalty.migration_helpers import run_statements

NAME_OF_MEMBERSHIP = """(SELECT m.search_name FROM loyalty_membership s JOIN loyalty_member m ON m.id = s.member_id
                         WHERE s.id = {membership})"""

CREATE = [
    f"""CREATE OR REPLACE FUNCTION retro_claim_takes_member_name() RETURNS trigger AS $$
       BEGIN
         NEW.member_name := COALESCE({NAME_OF_MEMBERSHIP.format(membership="NEW.membership_id")}, '');
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    # A writer that knows the name (the submission service) writes it, and the trigger is not run.
    """CREATE TRIGGER retro_claim_takes_member_name BEFORE INSERT ON retro_retroclaim
       FOR EACH ROW WHEN (NEW.member_name IS NULL OR NEW.member_name = '')
       EXECUTE FUNCTION retro_claim_takes_member_name()""",
    # Only when the membership or the copy itself changes: the daily pass's status updates skip it.
    """CREATE TRIGGER retro_claim_keeps_member_name BEFORE UPDATE ON retro_retroclaim
       FOR EACH ROW WHEN (NEW.membership_id IS DISTINCT FROM OLD.membership_id
                          OR NEW.member_name IS DISTINCT FROM OLD.member_name)
       EXECUTE FUNCTION retro_claim_takes_member_name()""",
    """CREATE OR REPLACE FUNCTION retro_claims_follow_member_name() RETURNS trigger AS $$
       BEGIN
         UPDATE retro_retroclaim c SET member_name = NEW.search_name
           FROM loyalty_membership s
          WHERE s.member_id = NEW.id AND c.membership_id = s.id AND c.member_name IS DISTINCT FROM NEW.search_name;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER retro_claims_follow_member_name AFTER UPDATE ON loyalty_member
       FOR EACH ROW WHEN (NEW.search_name IS DISTINCT FROM OLD.search_name)
       EXECUTE FUNCTION retro_claims_follow_member_name()""",
    """CREATE OR REPLACE FUNCTION retro_claims_follow_membership() RETURNS trigger AS $$
       BEGIN
         UPDATE retro_retroclaim c SET member_name = m.search_name
           FROM loyalty_member m
          WHERE m.id = NEW.member_id AND c.membership_id = NEW.id;
         RETURN NULL;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER retro_claims_follow_membership AFTER UPDATE ON loyalty_membership
       FOR EACH ROW WHEN (NEW.member_id IS DISTINCT FROM OLD.member_id)
       EXECUTE FUNCTION retro_claims_follow_membership()""",
    """UPDATE retro_retroclaim c SET member_name = m.search_name
         FROM loyalty_membership s JOIN loyalty_member m ON m.id = s.member_id
        WHERE c.membership_id = s.id""",
]
DROP = [
    "DROP TRIGGER IF EXISTS retro_claims_follow_membership ON loyalty_membership",
    "DROP FUNCTION IF EXISTS retro_claims_follow_membership()",
    "DROP TRIGGER IF EXISTS retro_claims_follow_member_name ON loyalty_member",
    "DROP FUNCTION IF EXISTS retro_claims_follow_member_name()",
    "DROP TRIGGER IF EXISTS retro_claim_keeps_member_name ON retro_retroclaim",
    "DROP TRIGGER IF EXISTS retro_claim_takes_member_name ON retro_retroclaim",
    "DROP FUNCTION IF EXISTS retro_claim_takes_member_name()",
]


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0013_readable_constraint_messages"),
        ("retro", "0009_readable_constraint_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="retroclaim",
            name="member_name",
            field=models.CharField(blank=True, db_default="", default="", editable=False, max_length=201),
        ),
        migrations.RunPython(run_statements(CREATE), run_statements(DROP)),
        migrations.AddIndex(
            model_name="retroclaim",
            index=models.Index(fields=["channel", "status", "submitted_at", "id"], name="retro_claim_channel_status"),
        ),
        migrations.AddIndex(
            model_name="retroclaim",
            index=models.Index(fields=["member_name", "id"], name="retro_claim_member_name"),
        ),
    ]
