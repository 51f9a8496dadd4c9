"""A short-lived cache of answers that concurrent readers share: while one
load runs, every caller of the same key awaits it, and its answer is kept
`ttl_secs` from when it arrived. A failure is never kept."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")
MAX_CACHED = 10_000


class Shared:
    def __init__(self, ttl_secs: float) -> None:
        self.ttl_secs = ttl_secs
        self._cache: dict[object, tuple[float, asyncio.Future[Any]]] = {}

    async def get(self, key: object, load: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        found = self._cache.get(key)
        if found is not None and (not found[1].done() or now - found[0] <= self.ttl_secs):
            return await asyncio.shield(found[1])
        if len(self._cache) >= MAX_CACHED:
            self._cache = {k: v for k, v in self._cache.items() if not v[1].done()}
        pending: asyncio.Future[Any] = asyncio.ensure_future(load())
        self._cache[key] = (now, pending)

        def settled(done: asyncio.Future[Any]) -> None:
            if self._cache.get(key, (0.0, None))[1] is not done:
                return
            if done.cancelled() or done.exception() is not None:
                del self._cache[key]
            else:
                self._cache[key] = (time.monotonic(), done)  # fresh from when it arrived

        pending.add_done_callback(settled)
        return await asyncio.shield(pending)
