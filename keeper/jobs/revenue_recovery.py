"""Bring a journal that is behind the chain (restored from a backup) up to
the program's batch sequence, from the chain's own record.

The report_revenue transactions of the missing batches are read back
(`getSignaturesForAddress` on the buy-back account, then `getTransaction`)
and their entries matched, in order, against the journal's backlog: batches
take backlog events in journal order, so the backlog the backup held is what
the next batches carried. A matched event is confirmed in its batch and is
never pushed again. An entry with no journaled event is an event only the
lost journal had: it is journaled as `chain:SEQ:INDEX` (source and cents as
the chain has them), so totals agree with the program, and named in the
audit trail and the log for the operator to reconcile with the provider."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from keeper import addresses, retry
from keeper.client import Aistm7Client
from keeper.journal import Journal
from keeper.money import RECOVERED_PREFIX

_PAGE = 1_000
_SOURCE_NAMES = {"CourseSale": "course_sale", "Subscription": "subscription", "Other": "other"}


class UnrecoverableGap(RuntimeError):
    """Batches the chain has that the RPC no longer serves."""


@dataclass(frozen=True)
class ChainBatch:
    seq: int
    signature: str
    block_time: int | None
    entries: list[tuple[str, int]]


@dataclass(frozen=True)
class Recovery:
    batches: int
    matched: list[str]
    """References the journal had, now confirmed in the batch that carried them."""
    chain_only: list[str]
    """`chain:SEQ:INDEX` of the entries no journaled event matched."""


def _report_revenue(client: Aistm7Client, tx: VersionedTransaction) -> tuple[int, list[tuple[str, int]]] | None:
    keys = tx.message.account_keys
    for ix in tx.message.instructions:
        if keys[ix.program_id_index] != client.program_id:
            continue
        named = client.program.coder.instruction.parse(bytes(ix.data))
        if named.name == "report_revenue":
            entries = [(_SOURCE_NAMES[type(e.source).__name__], int(e.amount_cents)) for e in named.data.entries]
            return int(named.data.batch_seq), entries
    return None


async def chain_batches(client: Aistm7Client, after: int, upto: int) -> list[ChainBatch]:
    """Batches `after`+1 .. `upto` as the chain recorded them, in order."""
    wanted = set(range(after + 1, upto + 1))
    found: dict[int, ChainBatch] = {}
    before: Signature | None = None
    buyback = addresses.buyback_pda(client.program_id)
    while wanted - found.keys():
        page = (
            await retry.read(
                lambda: client.connection.get_signatures_for_address(buyback, before=before, limit=_PAGE, commitment=Confirmed),
                "getSignaturesForAddress",
            )
        ).value
        for item in page:
            if item.err is not None:
                continue
            response = await retry.read(
                lambda: client.connection.get_transaction(item.signature, "base64", Confirmed, 0),
                f"getTransaction {item.signature}",
            )
            if response.value is None:
                continue
            tx = response.value.transaction.transaction
            assert isinstance(tx, VersionedTransaction)
            decoded = _report_revenue(client, tx)
            if decoded is not None and decoded[0] in wanted:
                found[decoded[0]] = ChainBatch(decoded[0], str(item.signature), item.block_time, decoded[1])
        if len(page) < _PAGE or min(found, default=upto + 1) == after + 1:
            break
        before = page[-1].signature
    missing = sorted(wanted - found.keys())
    if missing:
        raise UnrecoverableGap(f"batches {missing[0]}..{missing[-1]} are on-chain but the RPC no longer serves them")
    return [found[seq] for seq in sorted(found)]


async def recover(client: Aistm7Client, journal: Journal, confirmed: int, on_chain: int) -> Recovery:
    """Adopt batches `confirmed`+1 .. `on_chain` into the journal."""
    log = logger.bind(job="push_revenue")
    log.warning("the journal confirmed up to batch {}, the program has {}: recovering from the chain", confirmed, on_chain)
    matched: list[str] = []
    chain_only: list[str] = []
    for batch in await chain_batches(client, confirmed, on_chain):
        when = None if batch.block_time is None else datetime.fromtimestamp(batch.block_time, timezone.utc).isoformat()
        refs = journal.adopt(batch.seq, batch.signature, batch.entries, when)
        for index, ((source, cents), ref) in enumerate(zip(batch.entries, refs)):
            if ref is None:
                chain_only.append(f"{RECOVERED_PREFIX}{batch.seq}:{index}")
                log.warning(
                    "batch {} entry {} ({} {} cents, {}) is on-chain but in no journaled event",
                    batch.seq, index, source, cents, batch.signature,
                )
            else:
                matched.append(ref)
    log.warning("recovered {} batches: {} journaled events confirmed, {} chain-only entries", on_chain - confirmed, len(matched), len(chain_only))
    return Recovery(on_chain - confirmed, matched, chain_only)
