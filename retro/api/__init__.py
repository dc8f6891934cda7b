"""Retro REST API (DRF): serializers and views per resource."""
