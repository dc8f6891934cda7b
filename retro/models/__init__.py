"""Retro claims models: key definitions, settings, the transaction pool, claims."""

from retro.models.claims import RetroClaim, RetroClaimStatus
from retro.models.config import KEY_FIELD_CHOICES, RetroClaimKey, RetroClaimKeyField, RetroSettings
from retro.models.flights import Flight, FlightClaim, FlightClaimStatus, FlightSettings, NameMatch
from retro.models.pool import RetroImportBatch, RetroTransaction

__all__ = [
    "Flight",
    "FlightClaim",
    "FlightClaimStatus",
    "FlightSettings",
    "NameMatch",
    "KEY_FIELD_CHOICES",
    "RetroClaim",
    "RetroClaimKey",
    "RetroClaimKeyField",
    "RetroClaimStatus",
    "RetroImportBatch",
    "RetroSettings",
    "RetroTransaction",
]
