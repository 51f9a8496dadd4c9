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
    """Batch `seq` as a journal (or an archive) rebuilds it from its events."""

    seq: int
    committed: tree.Node | None
    """The root the journal recorded for it (what it sent); None when it has none."""
    rebuilt: tree.Node | None
    """The root its events give; None when it has no tree to rebuild."""
    cents: tuple[int, int, int] = (0, 0, 0)
    """Its events' cents per source (what a batch with no tree is checked by)."""
    pending: bool = False
    """Written and maybe not sent yet."""
    problems: list[str] = field(default_factory=list)
    """Each event that differs from what was committed, by name."""


_EVENTS = (
    "SELECT ref, source, amount_cents, leaf, state FROM revenue WHERE batch_seq = ? "
    "UNION ALL SELECT ref, source, amount_cents, leaf, 'confirmed' FROM archived_refs WHERE batch_seq = ? ORDER BY leaf"
)


def rebuild(db: sqlite3.Connection) -> list[BatchCheck]:
    """Every batch sent (pending or confirmed), each rebuilt from its events:
    compared leaf by leaf with its stored leaves where it has a tree, and
    summed per source where it has none (reported before trees, or
    recovered from the chain alone); each event must be in its batch's
    state. `db` may be read-only."""
    checks = []
    for seq, status, root, *sums in db.execute(
        "SELECT seq, status, root, course_sale, subscription, other, events FROM batches ORDER BY seq"
    ).fetchall():
        stored = db.execute("SELECT nodes FROM batch_levels WHERE batch_seq = ? AND level = 0", (seq,)).fetchone()
        committed = None if root is None else tree.Node(root, tuple(sums))
        check = BatchCheck(seq, committed, None, pending=status == "pending")
        events = db.execute(_EVENTS, (seq, seq)).fetchall()
        if committed is not None and stored is not None:
            _compare_leaves(check, events, stored[0])
        cents = [0, 0, 0]
        for ref, source, amount, _, state in events:
            if source in tree.SOURCES and type(amount) is int:
                cents[tree.SOURCES.index(source)] += amount
            if state != status:
                check.problems.append(f"event {ref!r} is {state} in {status} batch {seq}")
        check.cents = (cents[0], cents[1], cents[2])
        checks.append(check)
    return checks


def _compare_leaves(check: BatchCheck, events: list[tuple[object, ...]], leaves: bytes) -> None:
    seq, count = check.seq, len(leaves) // tree.NODE_BYTES
    placed: dict[int, tree.Node] = {}
    for ref, source, cents, index, _ in events:
        try:
            node = tree.leaf(ref, source, cents)  # type: ignore[arg-type]
        except (TypeError, ValueError, AttributeError) as exc:
            check.problems.append(f"event {ref!r} cannot be a leaf: {exc}")
            continue
        if not (type(index) is int and 0 <= index < count) or index in placed:
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
