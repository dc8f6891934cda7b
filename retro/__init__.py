"""Retro claims: anonymous transactions, claim keys, matching, flight claims."""
