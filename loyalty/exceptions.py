"""Domain errors of the loyalty core, all ValidationErrors with messages a CSR can read."""

from django.core.exceptions import ValidationError


class NoRuleSetInForce(ValidationError):
    """No earning rule set covers the date an activity must be valued on."""

    def __init__(self, *, program, day):
        self.program = program
        self.day = day
        super().__init__(
            f"No earning rule set is in force on {day.isoformat()} for {program.name}; points cannot be calculated.",
            code="no_rule_set_in_force",
        )


class AlreadyReversed(ValidationError):
    def __init__(self, activity):
        self.activity = activity
        super().__init__(
            f"This {activity.get_kind_display().lower()} of {activity.occurred_on.isoformat()} is already reversed.",
            code="already_reversed",
        )
