"""The only door for points: post, adjust and reverse activities, and change tiers.

Every function is atomic and idempotent on (membership, source,
external_reference): posting the same reference twice returns the first
Activity and posts nothing, and the database's unique constraint decides
when two posts race.
"""

from loyalty import valuation
from loyalty.exceptions import AlreadyReversed, NoRuleSetInForce
from loyalty.services.batch import post_activities
from loyalty.services.posting import (
    ActivityRequest,
    PostedAlong,
    activity_along,
    post_activity,
    post_adjustment,
    reverse_activity,
)
from loyalty.services.tiers import change_tier, validate_tier_change

__all__ = [
    "ActivityRequest",
    "AlreadyReversed",
    "NoRuleSetInForce",
    "PostedAlong",
    "activity_along",
    "change_tier",
    "post_activities",
    "post_activity",
    "post_adjustment",
    "reverse_activity",
    "validate_tier_change",
    "valuation",
]
