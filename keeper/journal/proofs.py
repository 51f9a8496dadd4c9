"""A journal's answers for its batches: the inclusion proof of one event,
read from its batch's stored tree (also for archived events), and every
batch's tree rebuilt from its events, naming the batch and the event where
a changed, dropped or added event makes them differ from what was
committed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from keeper import revenue_tree as tree
from keeper.journal.store import Journal
from keeper.revenue_proof import EventProof


class NotProvable(Exception):
    """An event the journal cannot prove; the message says why."""


def _level_nodes(db: sqlite3.Connection, seq: int) -> dict[int, int]:
    """The row of each stored level of batch `seq`."""
    return {level: rowid for level, rowid in db.execute(
        "SELECT level, rowid FROM batch_levels WHERE batch_seq = ?", (seq,)
    )}


def prove(journal: Journal, ref: str) -> EventProof:
    db = journal.current()
    row = db.execute(
        "SELECT source, amount_cents, batch_seq, leaf, state FROM revenue WHERE ref = ?", (ref,)
    ).fetchone()
    if row is None:
        archived = db.execute(
            "SELECT source, amount_cents, batch_seq, leaf FROM archived_refs WHERE ref = ?", (ref,)
        ).fetchone()
        if archived is None:
            raise NotProvable(f"no event {ref!r} in the journal")
        row = (*archived, "confirmed")
    source, cents, seq, index, state = row
    if state != "confirmed":
        raise NotProvable(f"{ref!r} is {state}: only events confirmed on-chain have a proof")
    batch = db.execute(
        "SELECT root, course_sale, subscription, other, events, signature FROM batches WHERE seq = ?", (seq,)
    ).fetchone()
    rows = _level_nodes(db, seq)
    if batch is None or batch[0] is None or index is None or not rows:
        raise NotProvable(
            f"{ref!r} is in batch {seq}, which has no tree in this journal "
            "(reported entry by entry before proofs, or recovered from the chain alone)"
        )
    root = tree.Node(batch[0], tuple(batch[1:5]))

    def node_at(level: int, i: int) -> tree.Node:
        with db.blobopen("batch_levels", "nodes", rows[level], readonly=True) as blob:
            blob.seek(i * tree.NODE_BYTES)
            return tree.decode(blob.read(tree.NODE_BYTES), 0)

    count = root.sums[3]
    path = tree.proof_from(node_at, count, index)
    if tree.walk(tree.leaf(ref, source, cents), path) != root:
        raise NotProvable(f"batch {seq}'s stored tree does not hold {ref!r} as journaled: run aistm7 audit verify --journal")
    return EventProof(seq, batch[5], ref, source, cents, index, count, path, root)


@dataclass
class BatchCheck:
    """Batch `seq` as its events rebuild it."""

    seq: int
    committed: tree.Node
    """The root the journal recorded for it (what it sent)."""
    rebuilt: tree.Node | None
    """The root its events give (None when it holds none)."""
    problems: list[str] = field(default_factory=list)
    """Each event that differs from the committed tree, by name."""


def rebuild(journal: Journal) -> tuple[list[BatchCheck], list[int]]:
    """Every confirmed batch with a tree, rebuilt from its events and
    compared leaf by leaf with its stored leaves; and the batches with no
    tree to rebuild (schema 2, or recovered from the chain alone)."""
    db = journal.current()
    checks: list[BatchCheck] = []
    untreed: list[int] = []
    for seq, root, *sums in db.execute(
        "SELECT seq, root, course_sale, subscription, other, events FROM batches WHERE status = 'confirmed' ORDER BY seq"
    ).fetchall():
        stored = db.execute("SELECT nodes FROM batch_levels WHERE batch_seq = ? AND level = 0", (seq,)).fetchone()
        if root is None or stored is None:
            untreed.append(seq)
            continue
        checks.append(_rebuild_batch(db, seq, tree.Node(root, tuple(sums)), stored[0]))
    return checks, untreed


def _rebuild_batch(db: sqlite3.Connection, seq: int, committed: tree.Node, leaves: bytes) -> BatchCheck:
    check = BatchCheck(seq, committed, None)
    count = len(leaves) // tree.NODE_BYTES
    events = db.execute(
        "SELECT ref, source, amount_cents, leaf FROM revenue WHERE batch_seq = ? "
        "UNION ALL SELECT ref, source, amount_cents, leaf FROM archived_refs WHERE batch_seq = ? ORDER BY leaf",
        (seq, seq),
    ).fetchall()
    placed: dict[int, tree.Node] = {}
    for ref, source, cents, index in events:
        try:
            node = tree.leaf(ref, source, cents)
        except ValueError as exc:
            check.problems.append(f"event {ref!r} cannot be a leaf: {exc}")
            continue
        if not (isinstance(index, int) and 0 <= index < count) or index in placed:
            check.problems.append(f"event {ref!r} ({source} {cents} cents) claims batch {seq} but is not in its tree: added")
            continue
        placed[index] = node
        if node != tree.decode(leaves, index):
            check.problems.append(f"event {ref!r} (leaf {index}) is not what batch {seq} committed: its amount or source changed")
    for index in range(count):
        if index not in placed:
            check.problems.append(f"leaf {index} of batch {seq} ({tree.decode(leaves, index).hash.hex()[:16]}…) has no event: dropped")
    if placed:
        check.rebuilt = tree.root([placed[i] for i in sorted(placed)])
    return check
