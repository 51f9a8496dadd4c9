"""`aistm7 audit verify --journal`: every revenue batch rebuilt from a
journal (or an archive file) and compared, root and sums, with the batch
account the program keeps, naming each batch and event that differ, and
each batch on one side only. The journal is opened read-only."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from pathlib import Path

from keeper import revenue_tree as tree
from keeper.audit.verify import Finding
from keeper.client import Aistm7Client
from keeper.journal.proofs import BatchCheck, rebuild
from keeper.state import RevenueBatch

MIN_SCHEMA = 3
"""Journals of this schema and later keep batch trees."""


class UnreadableEvidence(ValueError):
    """A file that is neither a journal of schema 3 or later nor an archive."""


def _journal_batches(path: Path) -> list[BatchCheck]:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise UnreadableEvidence(f"{path}: cannot open it read-only: {exc}") from exc
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version < MIN_SCHEMA:
            raise UnreadableEvidence(
                f"{path}: a journal of schema {version} (no batch trees): any aistm7 journal command migrates a copy"
            )
        return rebuild(db)
    except sqlite3.DatabaseError as exc:
        raise UnreadableEvidence(f"{path}: not a readable journal: {exc}") from exc
    finally:
        db.close()


def _archive_batches(path: Path) -> list[BatchCheck]:
    """An archive's batches rebuilt from its lines (an archive keeps no
    stored tree: each batch is judged by its rebuilt root and sums)."""
    grouped: dict[int, list[tuple[int | None, str, str, int]]] = defaultdict(list)
    try:
        for line in path.read_text().splitlines():
            event = json.loads(line)
            seq, leaf, ref, source, cents = event["batch"], event.get("leaf"), event["ref"], event["source"], event["amount_cents"]
            if type(seq) is not int or not 0 < seq <= tree.U64_MAX or not (leaf is None or type(leaf) is int):
                raise ValueError(f"batch {seq!r}, leaf {leaf!r}")
            tree.leaf(ref, source, cents)
            grouped[seq].append((leaf, ref, source, cents))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UnreadableEvidence(f"{path}: not an archive of revenue events ({type(exc).__name__}: {exc})") from exc
    checks = []
    for seq, events in sorted(grouped.items()):
        cents = tuple(sum(c for _, _, s, c in events if s == source) for source in tree.SOURCES)
        check = BatchCheck(seq, None, None, (cents[0], cents[1], cents[2]))
        if all(leaf is not None for leaf, _, _, _ in events):
            events.sort(key=lambda event: event[0] or 0)
            if [leaf for leaf, _, _, _ in events] != list(range(len(events))):
                check.problems.append(f"batch {seq}'s leaves are not 0..{len(events) - 1}: an event was dropped or added")
            check.rebuilt = tree.root([tree.leaf(ref, source, c) for _, ref, source, c in events])
            check.committed = check.rebuilt
        checks.append(check)
    seqs = sorted(grouped)
    if seqs and seqs != list(range(seqs[0], seqs[-1] + 1)):
        missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs))
        checks.append(BatchCheck(missing[0], None, None, problems=[f"batches {missing} are missing from the archive"]))
    return checks


def _hex(node: tree.Node | None) -> str:
    return "none" if node is None else f"{node.hash.hex()[:16]}… {list(node.sums)}"


def _compare(check: BatchCheck, landed: RevenueBatch | None) -> Finding:
    name = f"revenue-batch-{check.seq}"
    problems = list(check.problems)
    chain = None if landed is None else tree.Node(landed.root, landed.sums)
    if chain is None:
        if check.committed is not None:
            problems.append(f"the program has no account for batch {check.seq}")
        elif not problems:
            return Finding(name, "skipped", "reported before batch trees: no account to compare with")
    elif check.rebuilt is None:
        # No tree here: recovered from the chain alone (or its tree was removed). Its cents must still agree.
        if check.committed is None:
            problems.append("the journal has no root for it, the chain has one: its tree was removed")
        if check.cents != landed.sums[:3]:  # type: ignore[union-attr]
            problems.append(f"its events hold {list(check.cents)} cents per source, the chain {list(landed.sums[:3])}")  # type: ignore[union-attr]
    else:
        if check.committed != chain:
            problems.append(f"the journal committed {_hex(check.committed)}, the chain holds {_hex(chain)}")
        if check.rebuilt != chain:
            problems.append(f"its events give {_hex(check.rebuilt)}, the chain holds {_hex(chain)}")
    if problems:
        return Finding(name, "violated", "; ".join(problems))
    how = "rebuilt root and sums" if check.rebuilt is not None else "cents per source (no tree: recovered from the chain)"
    return Finding(name, "ok", f"{landed.events if landed else 0} events, {how} match the chain")


async def verify(client: Aistm7Client, path: Path) -> list[Finding]:
    """One finding per batch (violated naming the batch and its events),
    and, for a journal, one for the batches only one side has."""
    archive = path.suffix == ".jsonl"
    checks = _archive_batches(path) if archive else _journal_batches(path)
    buyback = await client.fetch_buyback()
    on_chain = 0 if buyback is None else buyback.data.last_batch_seq
    landed = await client.fetch_revenue_batches([check.seq for check in checks if check.seq <= on_chain])
    if archive:  # archived batches were all confirmed
        return [_compare(check, landed.get(check.seq)) for check in checks]
    findings = [_compare(check, landed.get(check.seq)) for check in checks if check.seq <= on_chain]
    have = {check.seq for check in checks}
    absent = [seq for seq in range(1, on_chain + 1) if seq not in have]
    beyond = [check for check in checks if check.seq > on_chain]
    problems = []
    if absent:
        problems.append(f"batches {absent[:10]}{'…' if len(absent) > 10 else ''} are on-chain but not in the journal")
    if beyond and not (len(beyond) == 1 and beyond[0].pending and beyond[0].seq == on_chain + 1):
        problems.append(f"batches {[check.seq for check in beyond][:10]} are in the journal but not on-chain")
    checked = f"batches 1..{on_chain} in the journal and on-chain" + (f", batch {on_chain + 1} pending" if beyond and not problems else "")
    findings.append(Finding("revenue-batch-sequence", "violated", "; ".join(problems)) if problems else Finding("revenue-batch-sequence", "ok", checked))
    return findings
