"""A rule set that has valued activities is read-only in the database too, not only in the model's save().

A queryset update or raw SQL on a used set's rules, or on the set itself, would change what past
postings say they earned. The one change allowed, as in the model, is giving an open-ended set an
end date on or after its last valued activity.
"""

from django.db import migrations

from loyalty.migration_helpers import run_statements

MESSAGE = (
    "This rule set has already valued activities, so it can no longer be edited or deleted: late postings "
    "dated in its period must keep earning what it said. Create a new rule set for the new period instead."
)

CREATE = [
    """CREATE OR REPLACE FUNCTION loyalty_rule_set_used(set_id bigint) RETURNS boolean AS $$
       SELECT EXISTS (SELECT 1 FROM loyalty_activity WHERE rule_set_id = set_id)
       $$ LANGUAGE sql STABLE""",
    f"""CREATE OR REPLACE FUNCTION loyalty_rules_of_used_sets_read_only() RETURNS trigger AS $$
       BEGIN
         IF (TG_OP <> 'INSERT' AND loyalty_rule_set_used(OLD.rule_set_id))
            OR (TG_OP <> 'DELETE' AND loyalty_rule_set_used(NEW.rule_set_id)) THEN
           RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER rules_of_used_sets_read_only BEFORE INSERT OR UPDATE OR DELETE ON loyalty_earningrule
       FOR EACH ROW EXECUTE FUNCTION loyalty_rules_of_used_sets_read_only()""",
    f"""CREATE OR REPLACE FUNCTION loyalty_used_rule_sets_read_only() RETURNS trigger AS $$
       BEGIN
         IF NOT loyalty_rule_set_used(OLD.id) THEN
           RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
         END IF;
         IF TG_OP = 'UPDATE' AND NEW.program_id = OLD.program_id AND NEW.name = OLD.name
            AND NEW.valid_from = OLD.valid_from AND NEW.created_at = OLD.created_at
            AND (NEW.valid_to IS NOT DISTINCT FROM OLD.valid_to
                 OR (OLD.valid_to IS NULL AND NEW.valid_to >= (
                     SELECT max(occurred_on) FROM loyalty_activity WHERE rule_set_id = OLD.id))) THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER used_rule_sets_read_only BEFORE UPDATE OR DELETE ON loyalty_earningruleset
       FOR EACH ROW EXECUTE FUNCTION loyalty_used_rule_sets_read_only()""",
]
DROP = [
    "DROP TRIGGER IF EXISTS used_rule_sets_read_only ON loyalty_earningruleset",
    "DROP FUNCTION IF EXISTS loyalty_used_rule_sets_read_only()",
    "DROP TRIGGER IF EXISTS rules_of_used_sets_read_only ON loyalty_earningrule",
    "DROP FUNCTION IF EXISTS loyalty_rules_of_used_sets_read_only()",
    "DROP FUNCTION IF EXISTS loyalty_rule_set_used(bigint)",
]


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0010_outbox_and_idempotency")]

    operations = [migrations.RunPython(run_statements(CREATE), run_statements(DROP))]
