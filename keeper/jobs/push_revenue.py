"""Report journaled revenue on-chain, exactly once per cent.

Before opening a new batch the job reconciles with the program: a pending
batch whose sequence number the program already has is confirmed; one it does
not have is re-sent as it is. Batches are only ever numbered last + 1 of the
program's own sequence, so a batch can land at most once (a second send fails
with `BatchAlreadyRecorded`)."""

from __future__ import annotations

from typing import Callable

from loguru import logger

from keeper.client import Aistm7Client
from keeper.errors import ProgramFailure
from keeper.jobs import JobResult
from keeper.journal import Batch, Journal


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


async def _check_totals(client: Aistm7Client, journal: Journal) -> None:
    """Everything confirmed in the journal is exactly what the program counted."""
    found = await client.fetch_buyback()
    assert found is not None
    on_chain, journaled = found.data.revenue.total, journal.totals()["confirmed"]
    if on_chain != journaled:
        raise JournalMismatch(f"the program counted {on_chain} cents, the journal confirmed {journaled}")


async def run(client: Aistm7Client, journal: Journal, after_send: Callable[[], None] | None = None) -> JobResult:
    """Push every unpushed event; `after_send` runs between a confirmed send
    and the journal update (tests use it to crash the keeper there)."""
    log = logger.bind(job="push_revenue")
    txs = 0
    while True:
        on_chain = await _on_chain_seq(client)
        batch = journal.pending_batch()
        if batch is not None and batch.seq <= on_chain:
            journal.confirm(batch.seq)
            log.info("batch {} was already on-chain: confirmed", batch.seq)
            continue
        if batch is not None and batch.seq != on_chain + 1:
            raise JournalMismatch(f"pending batch {batch.seq} does not follow on-chain batch {on_chain}")
        if batch is None:
            if journal.last_confirmed_seq() != on_chain:
                raise JournalMismatch(
                    f"journal confirmed up to batch {journal.last_confirmed_seq()}, the program has {on_chain}"
                )
            batch = journal.open_batch(on_chain + 1)
            if batch is None:
                await _check_totals(client, journal)
                return JobResult(txs=txs)
        try:
            signature = await _send(client, batch, after_send)
        except ProgramFailure as failure:
            if failure.name != "BatchAlreadyRecorded":
                raise
            log.info("batch {} already recorded on-chain", batch.seq)
            continue
        txs += 1
        journal.confirm(batch.seq, signature)
        log.info("pushed batch {}: {} events, {} cents in {}", batch.seq, len(batch.entries), batch.total_cents, signature)
