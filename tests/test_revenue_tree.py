"""The Merkle-sum tree of revenue batches: the committed test vectors (for
other implementations), every proof of every size leading to its root, and
the tampering a root or a proof must reveal."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from keeper import revenue_tree as tree

VECTORS = Path(__file__).parent / "vectors" / "revenue_tree_v1.json"


def events(count: int) -> list[tuple[str, str, int]]:
    return [(f"E-{n}", tree.SOURCES[n % 3], 100 + n) for n in range(count)]


def test_the_committed_vectors_hold() -> None:
    vector = json.loads(VECTORS.read_text())
    assert vector["version"] == tree.VERSION
    leaves = [tree.leaf(e["ref"], e["source"], e["cents"]) for e in vector["events"]]
    assert [node.hash.hex() for node in leaves] == vector["leaves"]
    # The first leaf, built from the format's words alone.
    first = vector["events"][0]
    by_hand = hashlib.sha256(
        b"\x00" + hashlib.sha256(first["ref"].encode()).digest() + bytes([0]) + first["cents"].to_bytes(8, "little")
    ).hexdigest()
    assert by_hand == vector["leaves"][0]
    root = tree.root(leaves)
    assert {"hash": root.hash.hex(), "sums": list(root.sums)} == vector["root"]
    for case in vector["proofs"]:
        event = vector["events"][case["index"]]
        reached = tree.walk(tree.leaf(event["ref"], event["source"], event["cents"]), case["path"])
        assert reached == root


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_every_proof_leads_to_the_root_and_the_sums_are_the_totals(count: int) -> None:
    batch = events(count)
    built = tree.levels([tree.leaf(*event) for event in batch])
    root = built[-1][0]
    totals = tuple(sum(c for _, s, c in batch if s == source) for source in tree.SOURCES) + (count,)
    assert root.sums == totals
    for index, event in enumerate(batch):
        assert tree.walk(tree.leaf(*event), tree.proof(built, index)) == root


def test_tampering_changes_the_root_and_fails_the_proof() -> None:
    batch = events(9)
    built = tree.levels([tree.leaf(*event) for event in batch])
    root = built[-1][0]
    changed = [*batch[:4], (batch[4][0], batch[4][1], batch[4][2] + 1), *batch[5:]]
    dropped = batch[:4] + batch[5:]
    added = [*batch, ("E-extra", "other", 1)]
    for other in (changed, dropped, added):
        assert tree.root([tree.leaf(*event) for event in other]).hash != root.hash
    path = tree.proof(built, 4)
    ref, source, cents = batch[4]
    assert tree.walk(tree.leaf(ref, source, cents + 1), path) != root, "a changed amount"
    assert tree.walk(tree.leaf(ref, "other" if source != "other" else "course_sale", cents), path) != root
    other_batch = tree.levels([tree.leaf(*event) for event in events(12)])
    assert tree.walk(tree.leaf(*batch[4]), tree.proof(other_batch, 4)) != root, "a proof of another batch"
    lying = [dict(step) for step in path]
    lying[0]["sums"] = [0, 0, 0, 1]  # a sibling claiming less
    assert tree.walk(tree.leaf(*batch[4]), lying) != root
    for broken in ([{"side": "up", "hash": "00" * 32, "sums": [0, 0, 0, 1]}], [{"side": "left", "hash": "zz", "sums": [0]}], [{}]):
        with pytest.raises(tree.InvalidProof):
            tree.walk(tree.leaf(*batch[4]), broken)
    with pytest.raises(ValueError, match="fit a u64"):
        tree.parent(tree.leaf("A", "other", tree.U64_MAX), tree.leaf("B", "other", 1))
    with pytest.raises(ValueError, match="at least one event"):
        tree.levels([])


def test_the_readme_check_verifies_the_vectors() -> None:
    """The few lines README gives auditors, run as written, against every vector proof."""
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    code = readme[readme.index("Python the whole check is:"):].split("```python\n")[1].split("```")[0]
    vector = json.loads(VECTORS.read_text())
    for case in vector["proofs"]:
        event = vector["events"][case["index"]]
        proof = {"event": event, "path": case["path"], "root": vector["root"]}
        exec(code, {"proof": proof})  # noqa: S102 - the README's own text
        lying = {**proof, "event": {**event, "cents": event["cents"] + 1}}
        with pytest.raises(AssertionError):
            exec(code, {"proof": lying})  # noqa: S102
