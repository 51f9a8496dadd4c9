"""Proof of revenue: 100,000 events go on-chain in one transaction as the root
of a Merkle-sum tree; any one of them is proven against the program's batch
account with no journal; and a journal changed after the fact (an amount, an
event dropped or added) is named, batch and event, by `audit verify
--journal`, as is a proof moved to another batch or given another amount."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from keeper import revenue_proof
from keeper import revenue_tree as tree
from keeper.client import Aistm7Client
from keeper.jobs import push_revenue
from keeper.journal import Journal, RevenueEvent
from tests.conftest import Chain, aistm7, revenue_chain

EVENTS = 100_000


@pytest.fixture(scope="module")
def chain(xprocess, tmp_path_factory) -> Iterator[Chain]:  # type: ignore[no-untyped-def]
    yield from revenue_chain(xprocess, tmp_path_factory, "localnet-proofs")


@pytest.fixture(scope="module")
def pushed(chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A journal whose 100,000 events went on-chain as batch 1, then 9 more as batch 2."""
    path = tmp_path_factory.mktemp("proofs") / "journal.sqlite3"
    journal = Journal(path)
    sources = tree.SOURCES
    journal.add([RevenueEvent.checked(f"SALE-{n}", sources[n % 3], f"{1 + n % 900}.{n % 100:02d}") for n in range(EVENTS)])

    async def push() -> tuple[int, int]:
        client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
        try:
            first = (await push_revenue.run(client, journal)).txs
            journal.add([RevenueEvent.checked(f"LATE-{n}", "other", f"{n + 1}.00") for n in range(9)])
            return first, (await push_revenue.run(client, journal)).txs
        finally:
            await client.close()

    assert asyncio.run(push()) == (1, 1), "one transaction for 100,000 events, one for the next 9"
    journal.close()
    return path


def prove(journal: Path, ref: str) -> dict[str, object]:
    proved = aistm7("revenue", "prove", ref, "--journal", str(journal))
    assert proved.returncode == 0, proved.stderr
    return dict(json.loads(proved.stdout))


def verify_proof(chain: Chain, doc: object, tmp_path: Path) -> tuple[int, str]:
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(doc))
    checked = aistm7("audit", "verify-proof", str(path), "--rpc-url", chain.rpc_url)
    return checked.returncode, checked.stdout + checked.stderr


def test_a_100000_event_batch_is_one_account_holding_its_root(chain: Chain, pushed: Path) -> None:
    journal = Journal(pushed)
    totals = journal.totals()

    async def landed() -> dict[int, object]:
        client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
        try:
            found = await client.fetch_revenue_batches([1, 2])
            buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
        finally:
            await client.close()
        assert buyback.revenue.total == totals["confirmed"] == totals["total"]
        return dict(found)

    found = asyncio.run(landed())
    first = found[1]
    assert first.events == EVENTS and first.batch_seq == 1  # type: ignore[attr-defined]
    stored = journal.db.execute("SELECT root, events, signature FROM batches WHERE seq = 1").fetchone()
    assert (stored[0], stored[1]) == (first.root, EVENTS) and stored[2]  # type: ignore[attr-defined]
    journal.close()


def test_any_event_is_proven_against_the_chain_without_the_journal(chain: Chain, pushed: Path, tmp_path: Path) -> None:
    for ref, batch in (("SALE-0", 1), ("SALE-77777", 1), (f"SALE-{EVENTS - 1}", 1), ("LATE-8", 2)):
        doc = prove(pushed, ref)
        assert doc["batch_seq"] == batch and doc["format"] == revenue_proof.FORMAT
        code, output = verify_proof(chain, doc, tmp_path)
        assert code == 0 and output.startswith(f"VALID: {ref} "), output
    # The proof is checked by the format's words alone (another implementation would).
    doc = prove(pushed, "SALE-12345")
    event = doc["event"]
    assert isinstance(event, dict)
    node = tree.leaf(event["ref"], event["source"], event["cents"])
    for step in doc["path"]:  # type: ignore[attr-defined]
        node = tree.parent(tree.Node(bytes.fromhex(step["hash"]), tuple(step["sums"])), node) if step["side"] == "left" else tree.parent(node, tree.Node(bytes.fromhex(step["hash"]), tuple(step["sums"])))
    assert node.hash.hex() == doc["root"]["hash"]  # type: ignore[index]

    refused = aistm7("revenue", "prove", "NO-SUCH", "--journal", str(pushed))
    assert refused.returncode == 2 and "no event 'NO-SUCH'" in refused.stderr


def test_a_changed_or_moved_proof_fails(chain: Chain, pushed: Path, tmp_path: Path) -> None:
    doc = prove(pushed, "SALE-4242")
    event = dict(doc["event"])  # type: ignore[call-overload]
    changed = {**doc, "event": {**event, "cents": event["cents"] + 1}}
    code, output = verify_proof(chain, changed, tmp_path)
    assert code == 1 and "INVALID" in output and "not the root it claims" in output

    # Another batch's root, with the path and the sums to match it, is not this event's batch.
    other = prove(pushed, "LATE-3")
    moved = {**doc, "batch_seq": other["batch_seq"], "batch_account": other["batch_account"]}
    code, output = verify_proof(chain, moved, tmp_path)
    assert code == 1 and "this proof is for another batch or was changed" in output
    elsewhere = {**other, "event": event}
    code, output = verify_proof(chain, elsewhere, tmp_path)
    assert code == 1 and "INVALID" in output

    # A proof that claims a root of its own making: it walks, but the chain holds another.
    forged_leaf = tree.leaf(event["ref"], event["source"], event["cents"] * 10)
    forged = {
        **doc, "event": {**event, "cents": event["cents"] * 10}, "path": [], "leaf_index": 0, "leaf_count": 1,
        "root": {"hash": forged_leaf.hash.hex(), "sums": list(forged_leaf.sums)},
    }
    code, output = verify_proof(chain, forged, tmp_path)
    assert code == 1 and "on-chain has root" in output

    # The path fixes the event's position: the same steps claimed for another leaf fail.
    path = list(doc["path"])  # type: ignore[call-overload]
    flipped = [{**step, "side": "right" if step["side"] == "left" else "left"} for step in path]
    broken_cases = (
        {"format": "something"}, {**doc, "path": "up"}, {**doc, "root": {"hash": "zz", "sums": [1]}},
        {**doc, "path": flipped}, {**doc, "leaf_index": doc["leaf_index"] ^ 1}, {**doc, "batch_seq": 2**64},
        {**doc, "batch_seq": True}, {**doc, "version": True}, {**doc, "path": [*path, path[0]]},
        {**doc, "batch_account": doc["program_id"]}, {**doc, "event": {**event, "cents": -1}},
    )
    for broken in broken_cases:
        code, output = verify_proof(chain, broken, tmp_path)
        assert code == 1 and "malformed" in output and "Traceback" not in output, output
    for name, junk in (("junk.json", "{not json"), ("deep.json", "[" * 100_000 + "]" * 100_000)):
        (tmp_path / name).write_text(junk)
        refused = aistm7("audit", "verify-proof", str(tmp_path / name), "--rpc-url", chain.rpc_url)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr


def tampered_copy(source: Path, tmp_path: Path, name: str, *statements: str) -> Path:
    copy = tmp_path / f"{name}.sqlite3"
    with sqlite3.connect(source) as db, sqlite3.connect(copy) as out:
        db.backup(out)
    with sqlite3.connect(copy) as db:
        for statement in statements:
            db.execute(statement)
    return copy


def test_a_tampered_journal_names_the_batch_and_the_event(chain: Chain, pushed: Path, tmp_path: Path) -> None:
    clean = aistm7("audit", "verify", "--journal", str(pushed), "--rpc-url", chain.rpc_url)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "OK        revenue-batch-1: 100000 events" in clean.stdout and "OK        revenue-batch-2" in clean.stdout
    assert "OK        revenue-batch-sequence: batches 1..2" in clean.stdout
    schema2 = tmp_path / "schema2.sqlite3"
    sqlite3.connect(schema2).execute("PRAGMA user_version = 2")
    refused = aistm7("audit", "verify", "--journal", str(schema2), "--rpc-url", chain.rpc_url)
    assert refused.returncode == 2 and "schema 2" in refused.stderr

    added = (
        "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at, state, batch_seq, leaf) "
        "VALUES ('FAKE-1', 'other', 100, '2026-12-01T00:00:00+00:00', '', '', 'confirmed', 2, 9)"
    )
    cases = {  # name: (statements, what the one violated line says, whether the rebuilt root differs from the chain)
        "changed": (["UPDATE revenue SET amount_cents = amount_cents + 100 WHERE ref = 'SALE-31337'"], "'SALE-31337' (leaf 31337) is not what batch 1 committed", True),
        "dropped": (["DELETE FROM revenue WHERE ref = 'LATE-4'"], "leaf 4 of batch 2", True),
        "added": ([added], "'FAKE-1' (other 100 cents) claims batch 2 but is not in its tree: added", False),
        "tree removed, then changed": (
            ["UPDATE batches SET root = NULL WHERE seq = 2", "UPDATE revenue SET amount_cents = 1 WHERE ref = 'LATE-0'"],
            "its tree was removed; its events hold [0, 0, 4401] cents per source, the chain [0, 0, 4500]", False,
        ),
        "unconfirmed": (["UPDATE revenue SET state = 'backlog' WHERE ref = 'LATE-2'"], "event 'LATE-2' is backlog in confirmed batch 2", False),
        "batch removed": (["DELETE FROM batches WHERE seq = 2"], "batches [2] are on-chain but not in the journal", False),
    }
    for name, (statements, named, differs) in cases.items():
        copy = tampered_copy(pushed, tmp_path, name.replace(" ", "-"), *statements)
        found = aistm7("audit", "verify", "--journal", str(copy), "--rpc-url", chain.rpc_url)
        assert found.returncode == 1, (name, found.stdout)
        violated = [line for line in found.stdout.splitlines() if line.startswith("VIOLATED")]
        assert len(violated) == 1 and named in violated[0], (name, found.stdout)
        assert differs == ("the chain holds" in violated[0]), (name, violated[0])

    archive = tmp_path / "archive"
    archived = aistm7("journal", "archive", "--before", "2100-01-01", "--dir", str(archive), "--journal", str(tampered_copy(pushed, tmp_path, "to-archive")))
    assert archived.returncode == 0, archived.stderr
    (jsonl,) = archive.glob("*.jsonl")
    assert aistm7("audit", "verify", "--journal", str(jsonl), "--rpc-url", chain.rpc_url).returncode == 0
    jsonl.write_text(jsonl.read_text().replace('"ref": "SALE-5", "source": "other", "amount_cents": 605', '"ref": "SALE-5", "source": "other", "amount_cents": 606'))
    found = aistm7("audit", "verify", "--journal", str(jsonl), "--rpc-url", chain.rpc_url)
    assert found.returncode == 1 and "VIOLATED  revenue-batch-1" in found.stdout
