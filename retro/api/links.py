"""The claim flows as OpenAPI links: from a submitted claim to reading and deciding it, from a ticket's coupons
to claiming one. Operations are named by their operationId."""

from loyalty.plugins import ApiLink

SUBMIT_CLAIM = "retro_claims_create"
READ_CLAIM = "retro_claims_retrieve"
APPROVE_CLAIM = "retro_claims_approve_create"
REJECT_CLAIM = "retro_claims_reject_create"
LIST_MEMBERSHIP_CLAIMS = "retro_members_claims_list"
SEARCH_FLIGHTS = "retro_flights_list"
SUBMIT_FLIGHT_CLAIM = "retro_flight_claims_create"
READ_FLIGHT_CLAIM = "retro_flight_claims_retrieve"
APPROVE_FLIGHT_CLAIM = "retro_flight_claims_approve_create"
REJECT_FLIGHT_CLAIM = "retro_flight_claims_reject_create"

CLAIM = {"number": "$response.body#/number"}
# A flight claim submission answers one claim per coupon; the links follow the first.
FIRST_CLAIM = {"number": "$response.body#/0/number"}
FIRST_COUPON = {
    "ticket_number": "$response.body#/0/ticket_number",
    "coupon_numbers": ["$response.body#/0/coupon_number"],
}

LINKS = [
    ApiLink(SUBMIT_CLAIM, "201", "ReadClaim", READ_CLAIM, "The claim and its outcome.", CLAIM),
    ApiLink(SUBMIT_CLAIM, "201", "ApproveClaim", APPROVE_CLAIM, "Approve it, when it awaits approval.", CLAIM),
    ApiLink(SUBMIT_CLAIM, "201", "RejectClaim", REJECT_CLAIM, "Reject it, when it awaits approval.", CLAIM),
    ApiLink(
        SUBMIT_CLAIM,
        "201",
        "ListMembershipClaims",
        LIST_MEMBERSHIP_CLAIMS,
        "The membership's claims, newest first.",
        {"membership_number": "$response.body#/membership_number"},
    ),
    ApiLink(APPROVE_CLAIM, "200", "ReadClaim", READ_CLAIM, "The claim as approved.", CLAIM),
    ApiLink(REJECT_CLAIM, "200", "ReadClaim", READ_CLAIM, "The claim as rejected.", CLAIM),
    ApiLink(
        SEARCH_FLIGHTS,
        "200",
        "ClaimCoupon",
        SUBMIT_FLIGHT_CLAIM,
        "Claim the first coupon found, for a member.",
        request_body=FIRST_COUPON,
    ),
    ApiLink(SUBMIT_FLIGHT_CLAIM, "201", "ReadFlightClaim", READ_FLIGHT_CLAIM, "The first coupon's claim.", FIRST_CLAIM),
    ApiLink(
        SUBMIT_FLIGHT_CLAIM,
        "201",
        "ApproveFlightClaim",
        APPROVE_FLIGHT_CLAIM,
        "Approve the first coupon's claim (someone other than its submitter).",
        FIRST_CLAIM,
    ),
    ApiLink(
        SUBMIT_FLIGHT_CLAIM,
        "201",
        "RejectFlightClaim",
        REJECT_FLIGHT_CLAIM,
        "Reject the first coupon's claim.",
        FIRST_CLAIM,
    ),
    ApiLink(APPROVE_FLIGHT_CLAIM, "200", "ReadFlightClaim", READ_FLIGHT_CLAIM, "The claim as approved.", CLAIM),
    ApiLink(REJECT_FLIGHT_CLAIM, "200", "ReadFlightClaim", READ_FLIGHT_CLAIM, "The claim as rejected.", CLAIM),
]
