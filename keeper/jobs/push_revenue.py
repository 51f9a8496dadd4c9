"""Report journaled revenue on-chain, exactly once per cent.

Before opening a new batch the job reconciles with the program: a pending
batch whose sequence number the program already has is confirmed; one it does
not have is re-sent as it is. Batches are only ever numbered last + 1 of the
program's own sequence, so a batch can land at most once (a second send fails
with `BatchAlreadyRecorded`). A journal behind the program (restored from a
backup) is first brought up to it from the chain (`revenue_recovery`); a
pending batch the chain has is confirmed only if the chain's batch carried
exactly its entries.

A batch the program refuses for its entries (`REFUSED_ENTRIES`) never
landed: its events are sent again one per batch, and the one refused alone
is quarantined, so it blocks nothing behind it. Any other failure (paused,
unauthorized, RPC down) leaves the batch pending, to be retried, and shows
in /health as a failing batch.

Under a steady stream a batch waits up to `linger_secs` for the backlog to
fill one (`MAX_BATCH_ENTRIES`), whichever comes first."""

from __future__ import annotations

from typing import Callable

from loguru import logger

from keeper.client import Aistm7Client
from keeper.errors import ProgramFailure
from keeper.jobs import JobResult
from keeper.jobs.revenue_recovery import chain_batches, recover
from keeper.journal import MAX_BATCH_ENTRIES, Batch, Journal
from keeper.journal.store import age_secs

REFUSED_ENTRIES = frozenset({"RevenueEntryTooLarge", "MathOverflow", "InvalidRevenueBatch"})


class JournalMismatch(RuntimeError):
    """The program's revenue sequence or totals disagree with the journal."""


async def _on_chain_seq(client: Aistm7Client) -> int:
    found = await client.fetch_buyback()
    if found is None:
        raise JournalMismatch("the buy-order treasury is not initialized")
    return found.data.last_batch_seq


async def _send(client: Aistm7Client, batch: Batch, after_send: Callable[[], None] | None) -> str:
    ix = client.report_revenue_ix(client.payer.pubkey(), batch.seq, batch.entries)
    result = await client.send([ix])
    if after_send is not None:
        after_send()
    return str(result.signature)


async def check_totals(client: Aistm7Client, journal: Journal) -> None:
    """Everything confirmed in the journal is exactly what the program counted."""
    found = await client.fetch_buyback()
    if found is None:
        raise JournalMismatch("the buy-order treasury is not initialized")
    on_chain, journaled = found.data.revenue.total, journal.totals()["confirmed"]
    if on_chain != journaled:
        raise JournalMismatch(f"the program counted {on_chain} cents, the journal confirmed {journaled}")


def _lingering(journal: Journal, linger_secs: float) -> bool:
    """The backlog is short of a full batch and younger than the linger time."""
    if linger_secs <= 0 or journal.totals()["backlog_events"] >= MAX_BATCH_ENTRIES:
        return False
    age = age_secs(journal.oldest_backlog_recorded())
    return age is not None and age < linger_secs


async def run(
    client: Aistm7Client,
    journal: Journal,
    after_send: Callable[[], None] | None = None,
    linger_secs: float = 0.0,
) -> JobResult:
    """Push every unpushed event; `after_send` runs between a confirmed send
    and the journal update (tests use it to crash the keeper there). One
    process pushes from a journal at a time (`PushInProgress` otherwise)."""
    with journal.push_lock():
        return await _run(client, journal, after_send, linger_secs)


async def _landed_as_sent(client: Aistm7Client, batch: Batch) -> bool:
    """Whether the chain's batch `batch.seq` carried exactly `batch`'s entries
    (not so when the journal was restored under a batch another sender landed)."""
    (landed,) = await chain_batches(client, batch.seq - 1, batch.seq)
    return landed.entries == batch.entries


async def _run(
    client: Aistm7Client, journal: Journal, after_send: Callable[[], None] | None, linger_secs: float
) -> JobResult:
    log = logger.bind(job="push_revenue")
    txs = 0
    isolate = 0
    """Events still to send one per batch, after a refused batch."""
    while True:
        on_chain = await _on_chain_seq(client)
        batch = journal.pending_batch()
        if batch is not None and batch.seq <= on_chain:
            if await _landed_as_sent(client, batch):
                journal.confirm(batch)
                log.info("batch {} was already on-chain: confirmed", batch.seq)
            else:
                journal.release(batch)
                log.warning("batch {} is on-chain with other entries: recovering it from the chain", batch.seq)
            continue
        if batch is not None and batch.seq != on_chain + 1:
            raise JournalMismatch(f"pending batch {batch.seq} does not follow on-chain batch {on_chain}")
        if batch is None:
            confirmed = journal.last_confirmed_seq()
            if confirmed > on_chain:
                raise JournalMismatch(
                    f"the journal confirmed up to batch {confirmed}, the program has only {on_chain}: "
                    "the chain was reset under the journal, or this is another cluster"
                )
            if confirmed < on_chain:
                await recover(client, journal, confirmed, on_chain)
                continue
            if not isolate and _lingering(journal, linger_secs):
                return JobResult(txs=txs)
            batch = journal.open_batch(on_chain + 1, 1 if isolate else MAX_BATCH_ENTRIES)
            if batch is None:
                await check_totals(client, journal)
                return JobResult(txs=txs)
        try:
            signature = await _send(client, batch, after_send)
        except ProgramFailure as failure:
            if failure.name == "BatchAlreadyRecorded":
                log.info("batch {} already recorded on-chain", batch.seq)
                continue
            if failure.name not in REFUSED_ENTRIES:
                raise
            if len(batch.entries) > 1:
                journal.release(batch)
                isolate = len(batch.entries)
                log.warning("batch {} refused ({}): sending its {} events one by one", batch.seq, failure.name, isolate)
            else:
                refs = journal.quarantine(batch, f"the program refused it: {failure.name}")
                isolate = max(isolate - 1, 0)
                log.error("quarantined {!r}: the program refused it ({})", refs[0] if refs else None, failure.name)
            continue
        txs += 1
        isolate = max(isolate - 1, 0)
        journal.confirm(batch, signature)
        log.info("pushed batch {}: {} events, {} cents in {}", batch.seq, len(batch.entries), batch.total_cents, signature)
