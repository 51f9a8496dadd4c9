"""The gateway's leader loop: one process at a time (a lease in the shared
database) reads the program's transactions after its cursor, records their
events with their deliveries (the outbox) and moves the cursor in one
transaction, then delivers due webhooks. Another process takes over within
the lease's time when the leader stops."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from loguru import logger
from solana.rpc.commitment import Confirmed

from keeper.audit import history
from keeper.client import Aistm7Client
from keeper.gateway.events import PRICED, Translator, last_price
from keeper.gateway.store import EventRecord, Store

LEASE = "leader"
LEASE_MS = 10_000
CURSOR = "signatures"
CHUNK = 16
"""Transactions read at once."""


class Indexer:
    def __init__(self, store: Store, client: Aistm7Client, owner: str, alert_bps: int) -> None:
        self.store = store
        self.client = client
        self.owner = owner
        self.alert_bps = alert_bps
        self.translator: Translator | None = None
        self.log = logger.bind(job="indexer")

    async def lead(self) -> bool:
        """Hold the leader lease (renewed on every call)."""
        return await asyncio.to_thread(self.store.lease, LEASE, self.owner, LEASE_MS)

    async def step(self) -> int:
        """Record the events of every transaction since the cursor; how many
        events were new. A first run starts from the newest transaction."""
        if self.translator is None:
            row = await asyncio.to_thread(self.store.last_event, "requirement.updated", PRICED)
            self.translator = Translator(self.alert_bps, last_price(row))
        cursor = await asyncio.to_thread(self.store.cursor, CURSOR)
        if cursor is None:
            newest = (await self.client.connection.get_signatures_for_address(self.client.program_id, limit=1, commitment=Confirmed)).value
            if newest:
                await asyncio.to_thread(self.store.record_events, [], (CURSOR, str(newest[0].signature)))
                self.log.info("indexing the program's events from {}", newest[0].signature)
            return 0
        added = 0
        pending = await history.newer_than(self.client, cursor)
        for start in range(0, len(pending), CHUNK):
            chunk = pending[start : start + CHUNK]
            found = await asyncio.gather(
                *(history.transaction_events(self.client, sig, slot, when) for sig, slot, when, ok in chunk if ok)
            )
            events = iter(found)
            records: list[EventRecord] = []
            last = None
            price_before = self.translator.last_price
            for signature, _, _, ok in chunk:
                read = next(events) if ok else []
                if read is None:
                    break  # not served yet: the cursor stops before it, the next step reads it
                for event in read:
                    records.extend(self.translator.records(event, await self._merchant(event.name, event.data)))
                last = str(signature)
            if last is None:
                self.log.warning("transaction {} is not served by the RPC yet: indexing waits for it", chunk[0][0])
                break
            try:
                added += len(await asyncio.to_thread(self.store.record_events, records, (CURSOR, last)))
            except Exception:
                self.translator.last_price = price_before  # the alerts it decided were not recorded
                raise
            if last != str(chunk[-1][0]):
                self.log.warning("a transaction after {} is not served by the RPC yet: indexing waits for it", last)
                break
            if not await self.lead():
                break  # another process leads now: it goes on from the cursor
        return added

    async def _merchant(self, name: str, data: dict[str, object]) -> str | None:
        if name != "FeePaid" or data.get("charged_by") is None:
            return None
        return await asyncio.to_thread(self.store.merchant_of_receipt, str(data["request_id"]))


async def lead(
    indexer: Indexer, deliver: Callable[[], Awaitable[int]], stopping: asyncio.Event, interval_secs: float
) -> None:
    """Until `stopping`: hold the lease and index in one loop, deliver in
    another while leading (a slow receiver never delays indexing or the
    lease's renewal)."""
    log = logger.bind(job="leader")
    leading = asyncio.Event()

    async def pause(busy: int) -> None:
        if not busy:
            try:
                await asyncio.wait_for(stopping.wait(), interval_secs)
            except asyncio.TimeoutError:
                pass

    async def index() -> None:
        while not stopping.is_set():
            busy = 0
            try:
                now_leading = await indexer.lead()
                if now_leading != leading.is_set():
                    log.info("this process {} the gateway's leader", "is now" if now_leading else "is no longer")
                    leading.set() if now_leading else leading.clear()
                if now_leading:
                    busy = await indexer.step()
            except Exception as exc:  # the loop outlives any one failure (RPC, database)
                log.warning("indexing failed: {}: {}", type(exc).__name__, exc)
            await pause(busy)

    async def send() -> None:
        while not stopping.is_set():
            busy = 0
            try:
                if leading.is_set():
                    busy = await deliver()
            except Exception as exc:  # as above
                log.warning("delivering failed: {}: {}", type(exc).__name__, exc)
            await pause(busy)

    await asyncio.gather(index(), send())
