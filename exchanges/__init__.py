"""Redemption exchanges and points refunds (seed 004); arrives with its roadmap issue."""
