"""The booking-engine simulator: plays a partner's booking engine against the exchanges API over HTTP, with the
standard library only, and checks that every answer is the one the API promises."""

import http.client
import json
import secrets
import string
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from decimal import Decimal

API_PREFIX = "/api/exchanges"
QUEUE_PATH = "/exchanges/manual-handling/"
FAILED_STEP = "emd_reassociation"


class SimulatorError(Exception):
    """The run cannot go on or did not get what it expected; the message is one line for a person."""


class StepFailed(Exception):
    """One step's answer was not the expected one."""

    def __init__(self, message, *, status=None):
        super().__init__(message)
        self.http_status = status


@dataclass
class Answer:
    status: int
    body: object  # the parsed JSON, or the text when the server did not answer JSON

    def field(self, name, default=None):
        return self.body.get(name, default) if isinstance(self.body, dict) else default

    def refusal(self):
        """What a refusal says: the problem's type and code, or the field errors, or the start of the text."""
        if not isinstance(self.body, dict):
            return f"not JSON: {str(self.body).strip()[:80]!r}"
        if "type" in self.body:
            return f"{self.body['type']} ({self.body.get('code')}): {self.body.get('detail', '')}"
        if "detail" in self.body:
            return str(self.body["detail"])
        return "; ".join(
            f"{name}: {' '.join(map(str, errors)) if isinstance(errors, list) else errors}"
            for name, errors in self.body.items()
        )


class BookingEngineClient:
    """The exchanges API as a booking engine sees it: its token on every call, a new Idempotency-Key per write."""

    def __init__(self, url, token, *, timeout=15):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SimulatorError(f"{url!r} is not a server's address: give one such as http://127.0.0.1:8000.")
        if not token or not (token.isascii() and token.isprintable()):
            raise SimulatorError("The token is printable ASCII text, as `manage.py issue_api_token` prints it.")
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def get(self, path):
        return self._send("GET", path)

    def post(self, path, body=None, *, key=None):
        return self._send("POST", path, body or {}, key=key or f"simulator-{uuid.uuid4()}")

    def _send(self, method, path, body=None, key=None):
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(f"{self.url}{API_PREFIX}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        except urllib.error.URLError as error:
            reason = getattr(error.reason, "strerror", None) or error.reason
            raise SimulatorError(f"Cannot reach {self.url}: {reason}. Is the server running (make run)?") from None
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            raise SimulatorError(f"No answer from {self.url}: {error}.") from None
        try:
            answer = Answer(status, json.loads(raw))
        except ValueError:
            answer = Answer(status, raw.decode(errors="replace"))
        if status == 401:
            raise SimulatorError(
                f"{self.url} refused the token ({answer.refusal()}): pass the partner client's --token, or load the "
                "demo (manage.py seed_demo, which also renews an expired demo token) for the demo token."
            )
        if answer.field("code") == "not_a_partner":
            raise SimulatorError(f"The token's user is not an active partner client at {self.url}.")
        if status >= 500:
            raise SimulatorError(f"{self.url} failed on {method} {API_PREFIX}{path}: HTTP {status}.")
        return answer


def expect(answer, http_status, **fields):
    """The answer has this HTTP status and these top-level values, or the step fails saying what came instead."""
    if answer.status != http_status:
        raise StepFailed(f"expected HTTP {http_status}, got {answer.status}: {answer.refusal()}", status=answer.status)
    for name, wanted in fields.items():
        if answer.field(name) != wanted:
            raise StepFailed(f"expected {name} {wanted!r}, got {answer.field(name)!r}", status=answer.status)
    return answer.body


def _num(number):
    return f"{number:,}"


class BookingEngineRun:
    """One booking's life as the simulator plays it: each step returns (its main answer, what to print about it),
    or raises StepFailed."""

    def __init__(self, client, *, program, market, membership, fare):
        self.client, self.program, self.market, self.membership = client, program, market, membership
        self.fare = Decimal(fare).quantize(Decimal("0.01"))
        self.pnr = "SIM" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(3))
        first = 5_000_000_000 + secrets.randbelow(4_000_000_000)
        self.tickets = [f"057{first:010d}", f"057{first + 1:010d}"]  # outbound and return, one passenger
        self.redemption = self.case = None  # their ids
        self.refund = None  # (key, body, answer) of the refund by amount, replayed later

    def steps(self):
        return [
            ("Quote the fare", self.quote),
            ("Authorize 2 tickets", self.authorize),
            ("Capture", self.capture),
            ("Exchange: may it proceed?", self.eligibility),
            ("Exchange: refund fare diff", self.exchange),
            ("Refund by amount (MFOP)", self.refund_by_amount),
            ("Replay the same request", self.replay),
            ("Same key, another body", self.key_conflict),
            ("Soft failure after PONR", self.soft_failure),
        ]

    def quote(self):
        request = {"program": self.program, "market": self.market, "cash_fare": str(self.fare), "tickets": 2}
        answer = self.client.post("/quote/", request)
        body = expect(answer, 200)
        mixed = [o for o in body["options"] if not o["redemption_only"]]
        if not mixed:
            raise StepFailed(f"no points-plus-cash option for a fare of {self.fare}: try a larger --fare", status=200)
        choice = mixed[len(mixed) // 2]
        self.currency, self.points, self.cash = body["currency"], int(choice["points"]), choice["cash"]
        return answer, (
            f"{self.fare} {self.currency} for 2 tickets in {self.market}: {len(body['options'])} options, up to "
            f"{_num(body['options'][-1]['points'])} points alone; taking {_num(self.points)} points + {self.cash} "
            f"{self.currency}"
        )

    def authorize(self):
        split = [self.points - self.points // 2, self.points // 2]
        self.ticket_points = dict(zip(self.tickets, split, strict=True))
        answer = self.client.post("/redemptions/", {
            "program": self.program, "membership_number": self.membership, "pnr": self.pnr,
            "currency": self.currency, "cash_amount": self.cash,
            "tickets": [{"ticket_number": n, "points": p} for n, p in self.ticket_points.items()],
        })  # fmt: skip
        self.redemption = expect(answer, 201, status="authorized", points_held=self.points)["id"]
        return answer, (
            f"redemption {self.redemption} (PNR {self.pnr}) for {self.membership}: {_num(self.points)} points held, "
            f"{self.cash} {self.currency} paid another way"
        )

    def capture(self):
        answer = self.client.post(f"/redemptions/{self.redemption}/capture/")
        body = expect(answer, 200, status="captured", points_captured=self.points)
        return answer, f"{_num(body['points_captured'])} points spent; {_num(body['points_refundable'])} refundable"

    def eligibility(self):
        answer = self.client.post("/eligibility/", {"passengers_in_pnr": 1, "passengers_exchanging": 1})
        expect(answer, 200, eligible=True, action="proceed")
        return answer, "proceed: unflown tickets, one passenger, nothing for the call centre"

    def exchange(self):
        ticket = self.tickets[0]
        difference = self.ticket_points[ticket] // 4
        body = {"membership_number": self.membership, "points": difference}
        answer = self.client.post(f"/redemptions/{self.redemption}/refunds/", body)
        refunded = expect(answer, 201, points_refunded=difference, tickets={ticket: difference})
        remaining = self._remaining(answer, refunded, self.points - difference)
        return answer, (
            f"ticket {ticket} changed to a cheaper fare: {_num(difference)} of its "
            f"{_num(self.ticket_points[ticket])} points refunded; {_num(remaining)} remain refundable"
        )

    def refund_by_amount(self):
        before = self._read()["points_refundable"]
        amount = self.ticket_points[self.tickets[1]] // 2
        key, body = f"simulator-{uuid.uuid4()}", {"membership_number": self.membership, "points": amount}
        answer = self.client.post(f"/redemptions/{self.redemption}/refunds/", body, key=key)
        refunded = expect(answer, 201, points_refunded=amount, cash_amount=self.cash, currency=self.currency)
        self.refund = (key, body, answer)
        remaining = self._remaining(answer, refunded, before - amount)
        return answer, (
            f"{_num(amount)} points back to {self.membership}; the cash part, {refunded['cash_amount']} "
            f"{refunded['currency']}, is left to the booking engine; {_num(remaining)} remain refundable"
        )

    def replay(self):
        key, body, first = self.refund
        before = self._read()
        answer = self.client.post(f"/redemptions/{self.redemption}/refunds/", body, key=key)
        expect(answer, first.status)
        if answer.body != first.body:
            raise StepFailed("the replay's body differs from the first answer's", status=answer.status)
        after = self._read()
        if [after[f] for f in ("points_refundable", "points_refunded")] != [
            before[f] for f in ("points_refundable", "points_refunded")
        ]:
            raise StepFailed(
                f"the replay changed the redemption: {_num(before['points_refundable'])} refundable before, "
                f"{_num(after['points_refundable'])} after", status=answer.status,
            )  # fmt: skip
        return answer, (
            f"same status and body as the first; still {_num(after['points_refundable'])} refundable: "
            "nothing refunded twice"
        )

    def key_conflict(self):
        key, body, _ = self.refund
        before = self._read()["points_refundable"]
        other = {**body, "points": body["points"] + 1}
        answer = self.client.post(f"/redemptions/{self.redemption}/refunds/", other, key=key)
        expect(answer, 422, code="key_reused")
        if self._read()["points_refundable"] != before:
            raise StepFailed("the refused request changed the redemption", status=answer.status)
        return answer, f"{answer.field('type')} ({answer.field('code')}): refused, nothing done"

    def soft_failure(self):
        detail = f"Simulator: the EMD of ticket {self.tickets[0]} was not reassociated after the exchange."
        answer = self.client.post(f"/redemptions/{self.redemption}/failures/", {"step": FAILED_STEP, "detail": detail})
        self.case = expect(answer, 201, redemption=self.redemption, failed_step=FAILED_STEP, status="open")["id"]
        return answer, (
            f"manual-handling case {self.case} opened ({FAILED_STEP}): {self.client.url}{QUEUE_PATH}{self.case}/ "
            f"(Manual handling queue: {QUEUE_PATH})"
        )

    def _read(self):
        return expect(self.client.get(f"/redemptions/{self.redemption}/"), 200)

    def _remaining(self, answer, refunded, wanted):
        redemption = refunded["redemption"]
        if (redemption["points_refundable"], redemption["status"]) != (wanted, "partly_refunded"):
            raise StepFailed(
                f"expected {_num(wanted)} refundable and partly_refunded, got "
                f"{_num(redemption['points_refundable'])} and {redemption['status']}", status=answer.status,
            )  # fmt: skip
        return wanted


def simulate(client, *, program, market, membership, fare, write=print):
    """Run every step, printing one line each; SimulatorError on the first step whose answer is not as expected."""
    run = BookingEngineRun(client, program=program, market=market, membership=membership, fare=fare)
    steps = run.steps()
    width = max(len(title) for title, _ in steps)
    for number, (title, step) in enumerate(steps, start=1):
        try:
            answer, line = step()
        except StepFailed as failure:
            write(f"{number}. {title:<{width}}  {failure.http_status or '---'}  FAILED: {failure}")
            raise SimulatorError(f"Step {number} ({title}) failed: {failure}") from None
        write(f"{number}. {title:<{width}}  {answer.status}  {line}")
    return run
