"""Airline retro flight claims (seed 000): the Retro Claim wizard, manual entry and the Flights Approval queue."""
