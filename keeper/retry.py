"""Bounded retries with backoff for RPC calls: public RPCs time out, drop
connections and rate-limit, and one failed request must not fail a whole run."""

from __future__ import annotations

import asyncio
import random
from typing import Awaitable, Callable, TypeVar

import httpx
from loguru import logger
from solana.exceptions import SolanaRpcException

T = TypeVar("T")

TRANSIENT = (SolanaRpcException, httpx.HTTPError)
"""What a transport failure looks like through solana-py (it wraps httpx errors)."""
ATTEMPTS = 5
BACKOFF_SECS = 0.2


async def backoff(attempt: int) -> None:
    """Exponential backoff with full jitter."""
    await asyncio.sleep(random.uniform(0, BACKOFF_SECS * 2**attempt))


def describe(exc: BaseException) -> str:
    """The underlying error, named (httpx timeouts carry no message)."""
    cause = exc.__cause__ or exc
    return f"{type(cause).__name__} {cause}".rstrip()


async def read(call: Callable[[], Awaitable[T]], what: str) -> T:
    """`call()`, tried up to ATTEMPTS times on transport errors. Only for reads:
    a send that may have landed needs keeper.tx's checks before any retry."""
    for attempt in range(ATTEMPTS - 1):
        try:
            return await call()
        except TRANSIENT as exc:
            logger.warning("{} failed ({}); retry {} of {}", what, describe(exc), attempt + 1, ATTEMPTS - 1)
            await backoff(attempt)
    return await call()
