"""The booking flow as OpenAPI links: from a hold's answer to capturing, releasing, refunding or reading it.

A booking engine follows them (authorize, then capture or release; after capture, refund or report a soft
failure), and so does schemathesis, which tests the whole flow. Operations are named by their operationId.
"""

from loyalty.plugins import ApiLink

AUTHORIZE = "exchanges_redemptions_create"
READ = "exchanges_redemptions_retrieve"
CAPTURE = "exchanges_redemptions_capture_create"
RELEASE = "exchanges_redemptions_release_create"
REFUND = "exchanges_redemptions_refunds_create"
REPORT_FAILURE = "exchanges_redemptions_failures_create"


def _links_from(operation, status, id_at):
    """A maker of links from an answer that names a redemption (its id at the JSON pointer `id_at`)."""
    by_id = {"redemption_id": f"$response.body#{id_at}"}

    def link(name, target, description, **extra):
        return ApiLink(operation, status, name, target, description, parameters=by_id, **extra)

    return link


_held = _links_from(AUTHORIZE, "201", "/id")
_captured = _links_from(CAPTURE, "200", "/id")
_refunded = _links_from(REFUND, "201", "/redemption/id")
# Only the original payer may be refunded: the booking's own membership number goes with the refund.
PAYER = {"membership_number": "$response.body#/membership_number"}

LINKS = [
    _held("ReadRedemption", READ, "The booking just held."),
    _held("CaptureHeldPoints", CAPTURE, "Capture the held points once the booking is ticketed."),
    _held("ReleaseHeldPoints", RELEASE, "Release the hold: the booking did not go ahead."),
    _held("RefundPoints", REFUND, "Refund the booking's points to its payer (once captured).", request_body=PAYER),
    _held("ReportFailure", REPORT_FAILURE, "A step after the point of no return failed."),
    _captured("ReadRedemption", READ, "The booking as captured."),
    _captured("RefundPoints", REFUND, "Refund the booking's points to its payer.", request_body=PAYER),
    _captured("ReportFailure", REPORT_FAILURE, "A step after the point of no return failed (e.g. ticketing)."),
    _links_from(RELEASE, "200", "/id")("ReadRedemption", READ, "The booking as released."),
    _refunded("ReadRedemption", READ, "The booking with what remains refundable."),
    _refunded(
        "RefundMorePoints",
        REFUND,
        "Refund more of what remains refundable.",
        request_body={"membership_number": "$response.body#/redemption/membership_number"},
    ),
    _links_from(REPORT_FAILURE, "201", "/redemption")("ReadRedemption", READ, "The booking the case is about."),
]
