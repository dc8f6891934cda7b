"""The mix of bench_load.py: locust -f bench/locust_load.py --headless … (BENCH_LOAD_PLAN names its JSON plan).

Browsing CSRs sign in through the login form and search members and open profiles; submitting CSRs send retro
claims through the API (a fifth of the key values twice, so claims race for one transaction: "already claimed"
is an answer, not an error); supervisors approve flight claims (API) and membership claims (the claim screen's
form, as a browser posts it); the booking engine authorizes, captures and refunds points. A request fails
only on a 5xx, a connection error, or an answer the product would not give.
"""

import itertools
import json
import os
import random
import re
import threading
import uuid
from html.parser import HTMLParser

from locust import FastHttpUser, between, task

with open(os.environ["BENCH_LOAD_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
LOCK = threading.Lock()
RETRO = iter(PLAN["retro"])
FLIGHTS = iter(PLAN["flight_claims"])
MEMBERSHIP_CLAIMS = iter(PLAN["membership_claims"])
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def take(source):
    with LOCK:
        return next(source, None)


class FormFields(HTMLParser):
    """The fields a browser would post from a page's form (inputs, checked boxes, selected options)."""

    def __init__(self):
        super().__init__()
        self.fields, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in {"submit", "button", "file"}:
            if attrs.get("type") in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.fields[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


class Browser(FastHttpUser):
    abstract = True
    credentials = None

    def on_start(self):
        page = self.client.get("/login/", name="GET /login/")
        token = CSRF.search(page.text).group(1)
        username, password = PLAN[self.credentials]
        self.client.post("/login/", data={"username": username, "password": password, "csrfmiddlewaretoken": token},
                         name="POST /login/")  # fmt: skip


class BrowsingCSR(Browser):
    weight = 4
    wait_time = between(0.2, 1)
    credentials = "csr"

    @task(3)
    def search(self):
        _, last_name = random.choice(PLAN["members"])
        self.client.get(f"/members/?q={last_name}", name="GET /members/?q=")

    @task(2)
    def profile(self):
        number, _ = random.choice(PLAN["members"])
        self.client.get(f"/members/{number}/", name="GET /members/<number>/")


class SubmittingCSR(FastHttpUser):
    weight = 2
    wait_time = between(0.2, 1)

    def on_start(self):
        self.headers = {"Authorization": f"Token {PLAN['csr_token']}"}

    @task
    def submit(self):
        claim = take(RETRO)
        if claim is None:
            return
        with self.client.post("/api/retro/claims/", json=claim, headers=self.headers, name="POST /api/retro/claims/",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code not in (200, 201):
                response.failure(f"{response.status_code}: {response.text[:200]}")


class ApprovingSupervisor(Browser):
    weight = 2
    wait_time = between(0.5, 1.5)
    credentials = "supervisor"

    @task
    def approve_flight_claim(self):
        number = take(FLIGHTS)
        if number is None:
            self.client.get("/retro/flights/approvals/", name="GET flights approval queue")
            return
        headers = {"Authorization": f"Token {PLAN['supervisor_token']}"}
        with self.client.post(f"/api/retro/flight-claims/{number}/approve/", json={"reason": "Boarding pass seen"},
                              headers=headers, name="POST /api/retro/flight-claims/<n>/approve/",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task
    def approve_membership_claim(self):
        pk = take(MEMBERSHIP_CLAIMS)
        if pk is None:
            self.client.get("/claims/?status=OPEN", name="GET /claims/?status=")
            return
        page = self.client.get(f"/claims/{pk}/", name="GET /claims/<pk>/")
        form = FormFields()
        form.feed(page.text)
        fields = {**form.fields, "decision": "approved", "ok": "OK"}
        with self.client.post(f"/claims/{pk}/", data=fields, name="POST /claims/<pk>/ (approve)",
                              catch_response=True) as response:  # fmt: skip
            if response.status_code not in (200, 302) or "errorlist" in response.text:
                response.failure(f"{response.status_code}: {response.text[:300]}")


class BookingEngine(FastHttpUser):
    weight = 2
    wait_time = between(0.2, 0.8)

    def on_start(self):
        self.headers = {"Authorization": f"Token {PLAN['partner_token']}"}
        self.members = itertools.cycle(PLAN["bookings"]["memberships"])

    def call(self, path, body, name, ok):
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex}
        with self.client.post(path, json=body, headers=headers, name=name, catch_response=True) as response:
            if response.status_code not in ok:
                response.failure(f"{response.status_code}: {response.text[:200]}")
            return response

    @task
    def book_and_refund(self):
        number = next(self.members)
        ticket = f"057{random.randrange(10**10):010d}"
        body = {"program": PLAN["bookings"]["program"], "membership_number": number, "currency": "USD",
                "pnr": uuid.uuid4().hex[:6].upper(), "cash_amount": "20.00",
                "tickets": [{"ticket_number": ticket, "points": 1000}]}  # fmt: skip
        held = self.call("/api/exchanges/redemptions/", body, "POST /api/exchanges/redemptions/", (201, 422))
        if held.status_code != 201:
            return  # not enough points left: an answer, not an error
        pk = held.json()["id"]
        self.call(f"/api/exchanges/redemptions/{pk}/capture/", {}, "POST …/capture/", (200,))
        self.call(f"/api/exchanges/redemptions/{pk}/refunds/", {"membership_number": number, "points": 400},
                  "POST …/refunds/", (201,))  # fmt: skip
