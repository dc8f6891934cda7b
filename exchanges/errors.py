"""Domain errors of exchanges: each has a stable code (the API's problem `type`) and the HTTP status it answers."""


class ExchangeRefused(Exception):
    """The operation cannot be done; `code` is stable, the message is for a person."""

    code = "refused"
    status = 422
    title = "The operation was refused"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        if code:
            self.code = code


class BadRequest(ExchangeRefused):
    code, status, title = "bad_request", 400, "The request is not valid"


class BadAmount(BadRequest):
    code, title = "bad_amount", "The amounts are not valid"


class NotAllowed(ExchangeRefused):
    code, status, title = "program_not_allowed", 403, "This partner may not use this program"


class NotOriginalPayer(ExchangeRefused):
    code, status, title = "not_original_payer", 403, "Only the original paying member may be refunded"


class InsufficientPoints(ExchangeRefused):
    code, status, title = "insufficient_points", 422, "Not enough points available"


class OverRefund(ExchangeRefused):
    code, status, title = "over_refund", 422, "More than what remains refundable"


class WrongState(ExchangeRefused):
    code, status, title = "wrong_state", 409, "The redemption is not in a state that allows this"


class NoRatio(ExchangeRefused):
    code, status, title = "no_conversion_ratio", 422, "No conversion ratio for this program and market"
