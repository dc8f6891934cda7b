"""Loyalty core: members, tiers, the points ledger and point-in-time valuation."""

from loyalty.celery import app as celery_app

__all__ = ["celery_app"]
