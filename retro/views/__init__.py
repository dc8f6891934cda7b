"""Retro claim screens: the member's Retro claims tab and pool search, Retro Claim Activity, approvals, the portal."""
