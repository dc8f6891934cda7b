"""The load of bench_exchanges.py, one phase a run: locust -f bench/locust_exchanges.py --headless …

BENCH_EXCHANGES_PLAN names a JSON file written by bench_exchanges.py: {"phase": "floor" | "refund" |
"replay", "users": [{"token": …, "work": [[redemption id, membership number, Idempotency-Key], …]}]}.
Each simulated user is one partner client (its own token) and goes through its own work in order:

- floor: POST /bench/floor/ (the token checked, one INSERT);
- refund: the first refund of each of its redemptions, in full, under a new key (then it stops: the
  benchmark gives each user more redemptions than it can refund in the run);
- replay: the same key and body as a refund already done, again and again (cycling through them);
- refund_paced: as refund, at "rate_per_user" requests/s a user, not flat out: all the users' requests
  evenly spaced in time, one every 1/(rate_per_user × users) s (paced_wait).

Every request carries X-Forwarded-Proto: https, as the TLS proxy in front of production does
(settings_production redirects plain HTTP). A request is a failure unless it answers 201.
"""

import itertools
import json
import os
import time

import gevent
from locust import FastHttpUser, task
from locust.exception import StopUser

with open(os.environ["BENCH_EXCHANGES_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
PHASE = PLAN["phase"].removesuffix("_paced")
SLOTS = itertools.count()
# The paced phase's time 0, shared by its users: a moment after the run starts, when all are spawned.
PACED_START = time.monotonic() + 0.3


class Partner(FastHttpUser):
    def wait_time(self):
        """No wait between a user's requests (the most the server gives), or paced (paced_wait)."""
        return self.paced_wait() if PLAN.get("rate_per_user") else 0

    def paced_wait(self):
        """Until this user's next turn. Its turns come every period, offset by its place among the users, so
        that all their requests are evenly spaced, as a booking engine's passengers arrive at a steady rate.

        Not locust's constant_throughput: locust starts all the users of a run at the same instant, each then
        sends once a period from its own start, and the users' requests came in bursts of all of them at once
        (18 requests at one instant, then none for a period). Their p99 measured that burst's queue: at 0.6 of
        the refunds' capacity, its p50 was 28 ms against 8 ms evenly spaced. A user that is late (a slow
        answer) sends at once until it is back on its turns: the requests owed are sent, not dropped.
        """
        self.turn += 1
        return max(0.0, self.first_turn + self.turn * self.period - time.monotonic())

    def on_start(self):
        place = next(SLOTS)
        slot = PLAN["users"][place % len(PLAN["users"])]
        if PLAN.get("rate_per_user"):
            self.period = 1 / PLAN["rate_per_user"]
            self.first_turn = PACED_START + self.period * place / len(PLAN["users"])
            self.turn = 0
            gevent.sleep(max(0.0, self.first_turn - time.monotonic()))
        self.headers = {"Authorization": f"Token {slot['token']}", "X-Forwarded-Proto": "https"}
        work = slot["work"]
        self.work = itertools.cycle(work) if PHASE == "replay" else iter(work)

    def post(self, path, name, body, key=None):
        headers = self.headers if key is None else {**self.headers, "Idempotency-Key": key}
        with self.client.post(path, json=body, headers=headers, name=name, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task
    def request(self):
        if PHASE == "floor":
            self.post("/bench/floor/", "floor", {})
            return
        try:
            redemption, membership_number, key = next(self.work)
        except StopIteration:
            raise StopUser() from None
        body = {"membership_number": membership_number}
        self.post(f"/api/exchanges/redemptions/{redemption}/refunds/", PLAN["phase"], body, key)
