"""`aistm7 audit verify --journal`: every revenue batch rebuilt from a
journal (or an archive file) and compared, root and sums, with the batch
account the program keeps, naming each batch and event that differ."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from keeper import revenue_tree as tree
from keeper.audit.verify import Finding
from keeper.client import Aistm7Client
from keeper.journal import Journal
from keeper.journal.proofs import BatchCheck, rebuild
from keeper.state import RevenueBatch


class UnreadableArchive(ValueError):
    """An archive file that is not JSON Lines of archived events."""


def _archive_batches(path: Path) -> tuple[list[BatchCheck], list[int]]:
    """The batches of an archive file rebuilt from its lines (an archive
    keeps no stored tree: only the rebuilt root is compared with the chain)."""
    grouped: dict[int, list[tuple[int, tree.Node, str]]] = defaultdict(list)
    untreed: set[int] = set()
    try:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            event = json.loads(line)
            seq, leaf = event["batch"], event.get("leaf")
            if leaf is None:
                untreed.add(seq)
                continue
            grouped[seq].append((leaf, tree.leaf(event["ref"], event["source"], event["amount_cents"]), event["ref"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableArchive(f"{path}: not an archive of revenue events ({exc})") from exc
    checks = []
    for seq, placed in sorted(grouped.items()):
        placed.sort(key=lambda item: item[0])
        leaves = [node for _, node, _ in placed]
        rebuilt = tree.root(leaves)
        check = BatchCheck(seq, rebuilt, rebuilt)
        expected = list(range(len(placed)))
        if [index for index, _, _ in placed] != expected:
            check.problems.append(f"batch {seq}'s leaves are not 0..{len(placed) - 1}: an event was dropped or added")
        checks.append(check)
    return checks, sorted(untreed)


def _compare(check: BatchCheck, landed: RevenueBatch | None) -> Finding:
    name = f"revenue-batch-{check.seq}"
    problems = list(check.problems)
    if landed is None:
        problems.append(f"the program has no account for batch {check.seq}")
    else:
        chain = tree.Node(landed.root, landed.sums)
        if check.committed != chain:
            problems.append(f"the journal committed root {check.committed.hash.hex()[:16]}…, the chain holds {landed.root.hex()[:16]}…")
        if check.rebuilt != chain:
            got = "no events" if check.rebuilt is None else f"root {check.rebuilt.hash.hex()[:16]}… sums {list(check.rebuilt.sums)}"
            problems.append(f"its events give {got}, the chain holds {landed.root.hex()[:16]}… sums {list(landed.sums)}")
    if problems:
        return Finding(name, "violated", "; ".join(problems))
    return Finding(name, "ok", f"{landed.events if landed else 0} events, {check.committed.sums[:3]} cents match the chain")


async def verify(client: Aistm7Client, path: Path) -> list[Finding]:
    """One finding per batch (violated naming the batch and its events), and
    one listing the batches with no tree (reported before proofs, or
    recovered from the chain alone)."""
    if path.suffix == ".jsonl":
        checks, untreed = _archive_batches(path)
    else:
        journal = Journal(path)
        try:
            checks, untreed = rebuild(journal)
        finally:
            journal.close()
    landed = await client.fetch_revenue_batches([check.seq for check in checks])
    findings = [_compare(check, landed.get(check.seq)) for check in checks]
    if untreed:
        findings.append(Finding("revenue-batches-without-tree", "skipped", f"batches {untreed} have no tree to rebuild"))
    if not checks:
        findings.append(Finding("revenue-batches", "skipped", f"{path} holds no batch with a tree"))
    return findings
