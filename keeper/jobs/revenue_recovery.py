"""Bring a journal that is behind the chain (restored from a backup) up to
the program's batch sequence, from the chain's own record: each missing
batch's account holds its root and sums. `Journal.adopt` confirms the
restored events that give that root, or records what only the chain has and
holds the restored backlog for the operator (it may be on-chain already),
so nothing is pushed twice; each step is in the journal's audit trail and
the log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.transaction import VersionedTransaction

from keeper import addresses, retry
from keeper import revenue_tree as tree
from keeper.client import Aistm7Client
from keeper.journal import Journal


class UnrecoverableGap(RuntimeError):
    """Batches the chain counted that have no batch account to recover from."""


@dataclass(frozen=True)
class Recovery:
    batches: int
    matched: list[str]
    """References the journal had, now confirmed in the batch that carried them."""
    chain_only: list[str]
    """`chain:SEQ:SOURCE` events standing for what only the chain has."""
    held: list[str]
    """Restored events quarantined because a batch's events could not be reproduced."""


async def batch_signature(client: Aistm7Client, seq: int) -> str | None:
    """The transaction that reported batch `seq` (None when the RPC no longer
    serves it): the successful one that touched the batch's account in the
    slot the account records and called this program (anyone can send
    lamports to the address, before or after)."""
    landed = (await client.fetch_revenue_batches([seq])).get(seq)
    if landed is None:
        return None
    address = addresses.revenue_batch_pda(seq, client.program_id)
    page = await retry.read(
        lambda: client.connection.get_signatures_for_address(address, limit=100, commitment=Confirmed),
        "getSignaturesForAddress",
    )
    for item in page.value:
        if item.err is not None or item.slot != landed.slot:
            continue
        response = await retry.read(
            lambda: client.connection.get_transaction(item.signature, "base64", Confirmed, 0),
            f"getTransaction {item.signature}",
        )
        tx = None if response.value is None else response.value.transaction.transaction
        if isinstance(tx, VersionedTransaction):
            keys = tx.message.account_keys
            if any(keys[ix.program_id_index] == client.program_id for ix in tx.message.instructions):
                return str(item.signature)
    return None


async def recover(client: Aistm7Client, journal: Journal, confirmed: int, on_chain: int) -> Recovery:
    """Adopt batches `confirmed`+1 .. `on_chain` into the journal."""
    log = logger.bind(job="push_revenue")
    log.warning("the journal confirmed up to batch {}, the program has {}: recovering from the chain", confirmed, on_chain)
    seqs = list(range(confirmed + 1, on_chain + 1))
    found = await client.fetch_revenue_batches(seqs)
    missing = [seq for seq in seqs if seq not in found]
    if missing:
        raise UnrecoverableGap(f"batches {missing[0]}..{missing[-1]} are counted on-chain but have no batch account")
    matched: list[str] = []
    chain_only: list[str] = []
    held: list[str] = []
    for seq in seqs:
        landed = found[seq]
        signature = await batch_signature(client, seq)
        when = datetime.fromtimestamp(landed.reported_at, timezone.utc).isoformat()
        adoption = await asyncio.to_thread(journal.adopt, seq, tree.Node(landed.root, landed.sums), signature, when)
        if adoption.matched:
            log.info("batch {}: {} restored events confirmed in it ({})", seq, len(adoption.matched), signature)
        else:
            log.warning(
                "batch {} ({} events, {} cents, {}) carried events this journal never saw: recorded as {}; "
                "{} restored events held for review",
                seq, landed.events, landed.totals.total, signature, ", ".join(adoption.chain_only), len(adoption.held),
            )
        matched += adoption.matched
        chain_only += adoption.chain_only
        held += adoption.held
    log.warning(
        "recovered {} batches: {} journaled events confirmed, {} chain-only events, {} held",
        len(seqs), len(matched), len(chain_only), len(held),
    )
    return Recovery(len(seqs), matched, chain_only, held)
