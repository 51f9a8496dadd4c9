"""Token buckets: `rate` tokens a second, at most `burst` saved. Each
gateway process keeps its own buckets (no database write per request): a
key's limit behind a load balancer of N processes is up to N times its rate."""

from __future__ import annotations

import math
import time


MAX_BUCKETS = 100_000


class Buckets:
    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    def _tokens(self, name: str, rate: float, burst: int, now: float) -> float:
        tokens, at = self._state.get(name, (float(burst), now))
        return min(float(burst), tokens + (now - at) * rate)

    def take(self, name: str, rate: float, burst: int) -> float:
        """0 when a token was taken for `name`, else the seconds until one is there."""
        now = time.monotonic()
        tokens = self._tokens(name, rate, burst, now)
        if len(self._state) >= MAX_BUCKETS and name not in self._state:
            self._state.clear()  # a flood of names (addresses) must not grow memory: all start full again
        if tokens >= 1.0:
            self._state[name] = (tokens - 1.0, now)
            return 0.0
        self._state[name] = (tokens, now)
        return (1.0 - tokens) / rate

    def wait(self, name: str, rate: float, burst: int) -> float:
        """The seconds until `name` has a token, taking none."""
        tokens = self._tokens(name, rate, burst, time.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate


def retry_after(wait_secs: float) -> str:
    """A Retry-After header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_secs)))
