"""Membership claims case management (seed 002); arrives with its roadmap issue."""
