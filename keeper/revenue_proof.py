"""The proof that one revenue event is counted on-chain: a JSON document
anyone can check against the program's batch account, with this code or
another implementation of `keeper.revenue_tree` (README, "Proof of
revenue").

    {"format": "aistm7-revenue-proof", "version": 1,
     "program_id": base58, "batch_seq": int, "batch_account": base58,
     "signature": base58 or null,
     "event": {"ref": str, "source": str, "cents": int},
     "leaf_index": int, "leaf_count": int,
     "path": [{"side": "left"|"right", "hash": hex, "sums": [4 ints]}, ...],
     "root": {"hash": hex, "sums": [course_sale, subscription, other, events]}}

Checking it: the leaf of `event`, walked up `path`, gives `root`; the
path's steps are those of `leaf_index` in a tree of `leaf_count` (the root's
event count) leaves, so a proof also fixes the event's position; and the
account `batch_account`, the PDA `["revenue_batch", batch_seq as u64 LE]` of
the program, owned by it, holds that root hash and those sums. `signature`
is for people to look the transaction up; nothing depends on it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from keeper import addresses
from keeper import revenue_tree as tree
from keeper.state import RevenueBatch

FORMAT = "aistm7-revenue-proof"


@dataclass(frozen=True)
class EventProof:
    """An event's place in its batch's tree, as a journal answers for it."""

    batch_seq: int
    signature: str | None
    ref: str
    source: str
    cents: int
    leaf_index: int
    leaf_count: int
    path: list[dict[str, object]]
    root: tree.Node


def document(program_id: Pubkey, proof: EventProof) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": tree.VERSION,
        "program_id": str(program_id),
        "batch_seq": proof.batch_seq,
        "batch_account": str(addresses.revenue_batch_pda(proof.batch_seq, program_id)),
        "signature": proof.signature,
        "event": {"ref": proof.ref, "source": proof.source, "cents": proof.cents},
        "leaf_index": proof.leaf_index,
        "leaf_count": proof.leaf_count,
        "path": proof.path,
        "root": {"hash": proof.root.hash.hex(), "sums": list(proof.root.sums)},
    }


@dataclass(frozen=True)
class Claim:
    """What a well-formed proof claims: batch `batch_seq` of `program_id` has `root`."""

    program_id: Pubkey
    batch_seq: int
    root: tree.Node
    event: dict[str, Any]


def _sides(index: int, count: int) -> list[str]:
    """The side of each sibling on the path of leaf `index` of `count`."""
    sides = []
    for size in tree.sizes(count)[:-1]:
        if index ^ 1 < size:
            sides.append("left" if index & 1 else "right")
        index //= 2
    return sides


def check(doc: Any) -> Claim:
    """The claim of proof `doc` once its path leads from its event, at its
    position, to its root; `InvalidProof` says what does not hold."""
    try:
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or type(doc.get("version")) is not int:
            raise ValueError(f"not an {FORMAT} document")
        if doc["version"] != tree.VERSION:
            raise ValueError(f"version {doc['version']}: this checker reads version {tree.VERSION}")
        event, root, seq = doc["event"], doc["root"], doc["batch_seq"]
        index, count = doc["leaf_index"], doc["leaf_count"]
        if not all(type(v) is int for v in (seq, index, count)) or not (0 < seq <= tree.U64_MAX and 0 <= index < count):
            raise ValueError("batch_seq is 1 to 2^64-1 and leaf_index 0 to leaf_count-1")
        if not isinstance(event, dict) or type(event.get("cents")) is not int or not isinstance(event.get("ref"), str):
            raise ValueError("event is {ref, source, cents}")
        if event.get("source") not in tree.SOURCES:
            raise ValueError(f"event source is one of {', '.join(tree.SOURCES)}")
        sums = root["sums"]
        if not isinstance(sums, list) or len(sums) != 4 or not all(type(v) is int for v in sums):
            raise ValueError("root sums are four integers")
        if sums[3] != count:
            raise ValueError(f"leaf_count {count} is not the root's {sums[3]} events")
        claimed = tree.Node(tree.hash_from_hex(root["hash"]), (sums[0], sums[1], sums[2], sums[3]))
        program_id = Pubkey.from_string(doc["program_id"])
        if doc["batch_account"] != str(addresses.revenue_batch_pda(seq, program_id)):
            raise ValueError(f"batch_account is not batch {seq}'s account of {program_id}")
        path = doc["path"]
        if not isinstance(path, list) or [step.get("side") if isinstance(step, dict) else None for step in path] != _sides(index, count):
            raise ValueError(f"the path's steps are not those of leaf {index} of {count}")
        start = tree.leaf(event["ref"], event["source"], event["cents"])
    except (KeyError, TypeError, ValueError) as exc:
        raise tree.InvalidProof(f"malformed proof: {exc}") from exc
    reached = tree.walk(start, path)
    if reached != claimed:
        raise tree.InvalidProof(
            f"the path leads to {reached.hash.hex()} {list(reached.sums)}, not the root it claims "
            f"({claimed.hash.hex()} {list(claimed.sums)}): the event, an amount or a step was changed"
        )
    return Claim(program_id, seq, claimed, event)


def on_chain(claim: Claim, landed: RevenueBatch | None) -> None:
    """`InvalidProof` unless the program's batch account holds the claimed root."""
    if landed is None:
        raise tree.InvalidProof(f"the program {claim.program_id} has no batch {claim.batch_seq}")
    if (landed.root, landed.sums) != (claim.root.hash, claim.root.sums):
        raise tree.InvalidProof(
            f"batch {claim.batch_seq} on-chain has root {landed.root.hex()} {list(landed.sums)}, "
            f"not {claim.root.hash.hex()} {list(claim.root.sums)}: this proof is for another batch or was changed"
        )
