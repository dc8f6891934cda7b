"""Tier changes: close the open period the day before, open the next one."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from loyalty.models import TierPeriod


def validate_tier_change(*, membership, tier, effective_on, open_period=None):
    """Raise ValidationError if `tier` cannot start on `effective_on` (admin forms call this too)."""
    if tier.program_id != membership.program_id:
        raise ValidationError({"tier": f"{tier.name} is not a tier of {membership.program.name}."})
    if open_period is None:
        open_period = TierPeriod.objects.filter(membership=membership, valid_to__isnull=True).first()
    if open_period is not None:
        if effective_on <= open_period.valid_from:
            raise ValidationError(
                {
                    "valid_from": f"The current {open_period.tier.name} period started on "
                    f"{open_period.valid_from.isoformat()}; a change must take effect after that date."
                }
            )
        if open_period.tier_id == tier.pk:
            raise ValidationError({"tier": f"The member already holds {tier.name}."})
    later = TierPeriod.objects.filter(membership=membership, valid_to__gte=effective_on)
    if later.exists():
        raise ValidationError({"valid_from": "Tier history already covers this date; a change must come after it."})


def change_tier(*, membership, tier, effective_on, reason="", changed_by=None):
    """Close the open tier period the day before `effective_on` and open one for `tier`."""
    try:
        with transaction.atomic():
            open_period = (
                TierPeriod.objects.select_for_update()
                .select_related("tier")
                .filter(membership=membership, valid_to__isnull=True)
                .first()
            )
            validate_tier_change(membership=membership, tier=tier, effective_on=effective_on, open_period=open_period)
            if open_period is not None:
                open_period.valid_to = effective_on - dt.timedelta(days=1)
                open_period.save(update_fields=["valid_to"])
            return TierPeriod.objects.create(
                membership=membership,
                tier=tier,
                valid_from=effective_on,
                reason=(reason or "")[:200],
                changed_by=changed_by,
            )
    except IntegrityError:
        # Two first tiers racing (nothing to lock yet): the database let one through.
        raise ValidationError("Another change of this member's tier was saved at the same time; reload and retry.")
