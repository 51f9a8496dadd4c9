"""The sales simulator: revenue webhooks posted to the keeper, signed as a
payment provider signs them, at a Poisson rate with per-source amounts
(course sales around R1,500, subscriptions R99 to R299, other small sums).
It keeps the sum the keeper accepted, so a test can hold the chain to it."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from loguru import logger

from keeper.webhook import SIGNATURE_HEADER, sign

MIX = (("course_sale", 0.3), ("subscription", 0.5), ("other", 0.2))


def amount_cents(rng: random.Random, source: str) -> int:
    if source == "course_sale":
        return max(10_000, round(rng.lognormvariate(7.3, 0.35)) * 100)  # about R1,500
    if source == "subscription":
        return rng.choice((9_900, 19_900, 29_900))
    return rng.randint(500, 50_000)


@dataclass
class Sales:
    url: str
    secret: bytes
    rate_per_sec: float = 1.0
    seed: int = 11
    limit: int | None = None
    """Stop after this many accepted sales (None: never)."""
    tally: Path | None = None
    """Where the accepted events and cents are kept (JSON), after each one."""
    events: int = 0
    cents: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    async def post_one(self, http: httpx.AsyncClient, n: int) -> None:
        source = self._rng.choices([name for name, _ in MIX], [weight for _, weight in MIX])[0]
        cents = amount_cents(self._rng, source)
        ref = f"SIM-{self.seed}-{int(time.time())}-{n}"
        body = json.dumps({"ref": ref, "source": source, "amount": f"{cents // 100}.{cents % 100:02d}"}).encode()
        response = await http.post(self.url, content=body, headers={SIGNATURE_HEADER: sign(self.secret, body, int(time.time()))})
        if response.status_code == 201:
            self.events += 1
            self.cents += cents
            if self.tally is not None:
                partial = self.tally.with_name(self.tally.name + ".partial")
                partial.write_text(json.dumps({"events": self.events, "cents": self.cents}))
                partial.replace(self.tally)
        else:
            logger.bind(job="sales").warning("the keeper answered {}: {}", response.status_code, response.text[:200])

    async def run(self, stop: asyncio.Event) -> None:
        log = logger.bind(job="sales")
        async with httpx.AsyncClient(timeout=10) as http:
            while not stop.is_set():  # the keeper may still be starting
                try:
                    await http.get(self.url.removesuffix("/revenue") + "/metrics")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.5)
            n = 0
            while not stop.is_set() and (self.limit is None or self.events < self.limit):
                try:
                    await asyncio.wait_for(stop.wait(), self._rng.expovariate(self.rate_per_sec))
                    break
                except asyncio.TimeoutError:
                    pass
                try:
                    await self.post_one(http, n)
                except httpx.HTTPError as exc:  # the keeper restarting: the next sale tries again
                    log.warning("posting a sale failed: {}", exc)
                n += 1
