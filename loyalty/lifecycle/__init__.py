"""The lifecycle kit every approval lifecycle stands on: the transition writer, decisions, queues.

- `transition` / `bulk_transition`: the only way a lifecycle state changes (with its log row).
- `ApprovalPolicy` / `decide`: who may decide, maker/checker, approval limits per role and program.
- `loyalty.lifecycle.queue` and `loyalty.lifecycle.api`: the decision screen and API pieces.
"""

from loyalty.lifecycle.transitions import TransitionRefused, bulk_transition, transition

__all__ = ["TransitionRefused", "bulk_transition", "transition"]
