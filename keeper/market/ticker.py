"""Run a market part every few seconds until asked to stop; a failed round
is logged and the next one tries again."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from loguru import logger


async def every(interval_secs: float, stop: asyncio.Event, job: str, action: Callable[[], Awaitable[object]]) -> None:
    log = logger.bind(job=job)
    while not stop.is_set():
        try:
            await action()
        except Exception as exc:  # a local market keeps going; the next round retries
            log.warning("{} failed: {}", job, exc)
        try:
            await asyncio.wait_for(stop.wait(), interval_secs)
        except asyncio.TimeoutError:
            pass
