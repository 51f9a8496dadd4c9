"""Token buckets: `rate` tokens a second, at most `burst` saved. Each
gateway process keeps its own buckets (no database write per request): a
key's limit behind a load balancer of N processes is up to N times its rate."""

from __future__ import annotations

import math
import time


class Buckets:
    def __init__(self) -> None:
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, name: str, rate: float, burst: int) -> float:
        """0 when a token was taken for `name`, else the seconds until one is there."""
        now = time.monotonic()
        tokens, at = self._state.get(name, (float(burst), now))
        tokens = min(float(burst), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._state[name] = (tokens - 1.0, now)
            return 0.0
        self._state[name] = (tokens, now)
        return (1.0 - tokens) / rate


def retry_after(wait_secs: float) -> str:
    """A Retry-After header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_secs)))
