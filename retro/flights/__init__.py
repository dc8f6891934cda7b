"""Airline retro flight claims (seed 000): the Retro Claim wizard, manual flight entry and the Flights Approval queue."""
