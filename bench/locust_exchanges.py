"""The load of bench_exchanges.py, one phase a run: locust -f bench/locust_exchanges.py --headless …

BENCH_EXCHANGES_PLAN names a JSON file written by bench_exchanges.py: {"phase": "floor" | "refund" |
"replay", "users": [{"token": …, "work": [[redemption id, membership number, Idempotency-Key], …]}]}.
Each simulated user is one partner client (its own token) and goes through its own work in order:

- floor: POST /bench/floor/ (the token checked, one INSERT);
- refund: the first refund of each of its redemptions, in full, under a new key (then it stops: the
  benchmark gives each user more redemptions than it can refund in the run);
- replay: the same key and body as a refund already done, again and again (cycling through them);
- refund_paced: as refund, at "rate_per_user" requests/s a user (constant_throughput), not flat out.

Every request carries X-Forwarded-Proto: https, as the TLS proxy in front of production does
(settings_production redirects plain HTTP). A request is a failure unless it answers 201.
"""

import itertools
import json
import os

from locust import FastHttpUser, constant, constant_throughput, task
from locust.exception import StopUser

with open(os.environ["BENCH_EXCHANGES_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
PHASE = PLAN["phase"].removesuffix("_paced")
SLOTS = itertools.count()


class Partner(FastHttpUser):
    # No wait between a user's requests (the most the server gives), or paced at so many requests/s a user.
    wait_time = constant_throughput(PLAN["rate_per_user"]) if PLAN.get("rate_per_user") else constant(0)

    def on_start(self):
        slot = PLAN["users"][next(SLOTS) % len(PLAN["users"])]
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
