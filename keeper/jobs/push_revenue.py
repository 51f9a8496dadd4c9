"""Report journaled revenue on-chain, exactly once per cent, in one
transaction per push whatever the number of events.

A push moves the backlog (up to `MAX_BATCH_EVENTS` events) into a batch:
the journal writes the batch's Merkle-sum tree (`keeper.revenue_tree`),
then `report_revenue` sends its root and sums, and the program keeps them
in the batch's own account. Before opening a new batch the job reconciles
with the program: a pending batch whose number the program already has is
confirmed if that number's account holds its root, and released (its events
back to the backlog) if another root landed there (the journal was restored
under another sender); one the program does not have is re-sent as it is.
Batches are only ever numbered last + 1 of the program's own sequence, so a
batch can land at most once (a second send fails with
`BatchAlreadyRecorded`). A journal behind the program (restored from a
backup) is first brought up to it from the batch accounts
(`revenue_recovery`).

The program sees only a batch's sums, so events it must refuse (above its
per-event maximum) are quarantined by the journal before a batch opens. A
batch the program refuses all the same (paused, unauthorized, totals that
would overflow) stays pending, is retried, and shows in /health.

Under a steady stream a batch waits up to `linger_secs` for the backlog to
fill one, whichever comes first."""

from __future__ import annotations

import asyncio
from typing import Callable

from loguru import logger

from keeper.client import Aistm7Client
from keeper.errors import ProgramFailure
from keeper.jobs import JobResult
from keeper.jobs.revenue_recovery import batch_signature, recover
from keeper.journal import MAX_BATCH_EVENTS, Batch, Journal
from keeper.journal.store import age_secs


class JournalMismatch(RuntimeError):
    """The program's revenue sequence or totals disagree with the journal."""


async def _on_chain_seq(client: Aistm7Client) -> int:
    found = await client.fetch_buyback()
    if found is None:
        raise JournalMismatch("the buy-order treasury is not initialized")
    return found.data.last_batch_seq


async def _send(client: Aistm7Client, batch: Batch, after_send: Callable[[], None] | None) -> str:
    assert batch.root is not None, "batches this keeper opens have a tree"
    ix = client.report_revenue_ix(client.payer.pubkey(), batch.seq, batch.root)
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
    if linger_secs <= 0 or journal.totals()["backlog_events"] >= MAX_BATCH_EVENTS:
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
    process pushes from a journal at a time (`PushInProgress` otherwise).
    Building a batch's tree and writing it run in a worker thread, so a
    100,000-event push never stalls the event loop: `journal` must be the
    job's own (nothing else may use it meanwhile)."""
    with journal.push_lock():
        return await _run(client, journal, after_send, linger_secs)


async def _settle_landed(client: Aistm7Client, journal: Journal, batch: Batch) -> None:
    """Pending `batch`'s number is on-chain: confirm it if that number's
    account holds its root (a batch of schema 2 has none and landed as it
    was sent), release it for recovery if it holds another. An account not
    readable yet (an RPC node behind the one that answered the sequence) is
    a failure to retry, never a reason to release: releasing a batch that
    landed would count its events twice."""
    log = logger.bind(job="push_revenue")
    if batch.root is not None:
        landed = (await client.fetch_revenue_batches([batch.seq])).get(batch.seq)
        if landed is None:
            raise JournalMismatch(f"batch {batch.seq} is counted on-chain but its account is not readable yet: retrying")
        if (landed.root, landed.sums) != (batch.root.hash, batch.root.sums):
            await asyncio.to_thread(journal.release, batch)
            log.warning("batch {} is on-chain with another root: recovering it from the chain", batch.seq)
            return
    signature = await batch_signature(client, batch.seq)
    await asyncio.to_thread(journal.confirm, batch, signature)
    log.info("batch {} was already on-chain: confirmed", batch.seq)


async def _run(
    client: Aistm7Client, journal: Journal, after_send: Callable[[], None] | None, linger_secs: float
) -> JobResult:
    log = logger.bind(job="push_revenue")
    txs = 0
    while True:
        on_chain = await _on_chain_seq(client)
        batch = await asyncio.to_thread(journal.pending_batch)
        if batch is not None and batch.seq <= on_chain:
            await _settle_landed(client, journal, batch)
            continue
        if batch is not None and batch.root is None:
            await asyncio.to_thread(journal.release, batch)  # of schema 2 and never landed: re-batched with a tree
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
            if _lingering(journal, linger_secs):
                return JobResult(txs=txs)
            batch = await asyncio.to_thread(journal.open_batch, on_chain + 1)
            if batch is None:
                await check_totals(client, journal)
                return JobResult(txs=txs)
        try:
            signature = await _send(client, batch, after_send)
        except ProgramFailure as failure:
            if failure.name == "BatchAlreadyRecorded":
                log.info("batch {} already recorded on-chain", batch.seq)
                continue
            raise
        txs += 1
        await asyncio.to_thread(journal.confirm, batch, signature)
        log.info("pushed batch {}: {} events, {} cents in {}", batch.seq, len(batch.ids), batch.total_cents, signature)
