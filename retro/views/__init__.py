"""Retro claim screens: the member's Retro claims tab, Retro Claim Activity, the member portal."""
