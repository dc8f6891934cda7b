"""The membership claims screens (seed 002)."""
