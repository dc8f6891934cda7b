"""Seed 004's limitations of award exchanges: each one that applies sends the passenger to the call centre."""

from dataclasses import dataclass

# code: why the exchange cannot proceed online (seed 004, Limitations).
REASONS = {
    "ticket_not_unflown": "The ticket must be fully unflown: the trip has commenced.",
    "round_trip_to_one_way": "A change from round trip to one way is not supported.",
    "upgraded_segment": "A segment has been upgraded: the passenger must contact the call centre.",
    "involuntary_exchange": "This is an involuntary exchange: the passenger must contact the call centre.",
    "unconfirmed_schedule_change": "A segment has an unconfirmed schedule change: the passenger must contact the "
    "call centre.",
    "split_pnr": "Cancellation is for all passengers only: a split PNR is not supported.",
    "revalidation_only": "A ticket revalidation-only reissue is not supported.",
    "ancillaries_paid_in_points": "Ancillaries or seats were paid in points: they cannot be partly refunded here.",
    "zero_value_ticket": "A ticket with zero value (e.g. an infant fare) cannot be refunded.",
}


@dataclass(frozen=True)
class BookingState:
    """What the booking engine knows of the booking it wants to exchange."""

    all_coupons_unflown: bool = True
    round_trip_to_one_way: bool = False
    upgraded_segment: bool = False
    involuntary: bool = False
    unconfirmed_schedule_change: bool = False
    passengers_in_pnr: int = 1
    passengers_exchanging: int = 1
    revalidation_only: bool = False
    ancillaries_paid_in_points: bool = False
    ticket_value_zero: bool = False


def refusal_codes(state: BookingState):
    """The reason codes, in seed order, that stop this exchange online (empty: it may proceed)."""
    applies = {
        "ticket_not_unflown": not state.all_coupons_unflown,
        "round_trip_to_one_way": state.round_trip_to_one_way,
        "upgraded_segment": state.upgraded_segment,
        "involuntary_exchange": state.involuntary,
        "unconfirmed_schedule_change": state.unconfirmed_schedule_change,
        "split_pnr": state.passengers_exchanging < state.passengers_in_pnr,
        "revalidation_only": state.revalidation_only,
        "ancillaries_paid_in_points": state.ancillaries_paid_in_points,
        "zero_value_ticket": state.ticket_value_zero,
    }
    return [code for code in REASONS if applies[code]]
