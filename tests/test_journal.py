"""The revenue journal over time: events the program would refuse are
quarantined and repaired by hand, batches fill up under a stream, confirmed events are
archived with a checksum, and a running keeper whose journal was lost
recovers from a backup and the chain without pushing anything twice."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from keeper import revenue_proof
from keeper.client import Aistm7Client
from keeper.jobs import push_revenue
from keeper.journal import Journal, RevenueEvent
from keeper.journal.files import sha256_of
from keeper.journal.schema import MIGRATIONS
from keeper.health import HealthPolicy, judge
from keeper.metrics import KeeperMetrics
from keeper.scheduler import JobStatus, Scheduler
from keeper.webhook import SIGNATURE_HEADER, sign
from tests.conftest import Chain, _free_port, aistm7, revenue_chain, start_keeper, stop_keeper, wait_listening

POISON_CENTS = 9_223_372_036_854_775_807
"""`revenue add --amount 92233720368547758.07`, as an older keeper journaled it."""


@pytest.fixture(scope="module")
def chain(xprocess, tmp_path_factory) -> Iterator[Chain]:  # type: ignore[no-untyped-def]
    yield from revenue_chain(xprocess, tmp_path_factory, "localnet-journal")


def older_journal(path: Path, rows: list[tuple[str, str, int]]) -> None:
    """A journal as the keeper before schema 2 wrote it (receipt times
    as the provider sent them, here a date alone)."""
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.executemany(
        "INSERT INTO revenue (ref, source, amount_cents, received_at) VALUES (?, ?, ?, '2026-11-30')", rows
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


async def on_chain(chain: Chain) -> tuple[int, int]:
    """The program's (last batch, total cents)."""
    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    try:
        found = await client.fetch_buyback()
    finally:
        await client.close()
    assert found is not None
    return found.data.last_batch_seq, found.data.revenue.total


async def push(chain: Chain, journal: Journal, linger_secs: float = 0.0) -> int:
    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    try:
        return (await push_revenue.run(client, journal, linger_secs=linger_secs)).txs
    finally:
        await client.close()


async def test_a_refused_event_is_quarantined_and_blocks_nothing_behind_it(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    goods = [(f"G-{n}", "course_sale", 1_000 + n) for n in range(10)]
    too_large = 2_000_000_000  # 20,000,000 ZAR: above the program's maximum, not SQLite's
    older_journal(path, [*goods[:5], ("P", "other", POISON_CENTS), *goods[5:8], ("Q", "other", too_large), *goods[8:]])
    journal = Journal(path)
    assert journal.totals()["backlog_events"] == 12
    seq_before, total_before = await on_chain(chain)

    assert await push(chain, journal, linger_secs=2) == 0, "just migrated: the backlog lingers"
    # The program sees only a batch's sums, so the keeper holds P and Q back
    # before the batch opens; the ten others land in one transaction.
    assert await push(chain, journal) == 1
    seq, total = await on_chain(chain)
    assert total - total_before == sum(cents for _, _, cents in goods) == journal.totals()["confirmed"]
    assert seq == seq_before + 1 == journal.last_confirmed_seq()
    held = journal.held()
    assert [(event.ref, event.amount_cents) for event in held] == [("P", POISON_CENTS), ("Q", too_large)]
    assert all("above the program's per-event maximum" in event.reason for event in held)
    assert journal.totals()["quarantined_events"] == 2 and journal.totals()["backlog_events"] == 0

    # A later event is not held up by it.
    journal.add([RevenueEvent.checked("AFTER", "subscription", "5.00")])
    assert await push(chain, journal) == 1
    assert (await on_chain(chain))[1] - total == 500

    listed = aistm7("revenue", "show", "--quarantined", "--journal", str(path))
    assert listed.returncode == 0 and "P  other" in listed.stdout and "per-event maximum" in listed.stdout
    # Requeued, it is held again (the program's maximum did not change).
    assert aistm7("revenue", "requeue", "P", "--journal", str(path)).returncode == 0
    assert journal.totals()["backlog_events"] == 1
    assert await push(chain, journal) == 0
    assert [event.ref for event in journal.held()] == ["Q", "P"]
    no_reason = aistm7("revenue", "void", "P", "--reason", " ", "--journal", str(path))
    voided = aistm7("revenue", "void", "P", "--reason", "provider test event", "--journal", str(path))
    again = aistm7("revenue", "void", "P", "--reason", "twice", "--journal", str(path))
    not_held = aistm7("revenue", "requeue", "G-1", "--journal", str(path))
    assert no_reason.returncode == 2 and voided.returncode == 0
    assert again.returncode == 2 and "it is voided" in again.stderr
    assert not_held.returncode == 2 and "it is confirmed" in not_held.stderr
    totals = journal.totals()
    assert (totals["quarantined_events"], totals["voided_events"], totals["voided"]) == (1, 1, POISON_CENTS)
    assert totals["confirmed"] == sum(cents for _, _, cents in goods) + 500 == totals["total"] - too_large

    trail = json.loads(aistm7("journal", "trail", "--ref", "P", "--json", "--journal", str(path)).stdout)
    assert [entry["action"] for entry in trail] == ["quarantined", "requeued", "quarantined", "voided"]
    assert trail[-1]["detail"] == "provider test event" and trail[-1]["actor"] != "keeper"
    verified = aistm7("journal", "verify", "--rpc-url", chain.rpc_url, "--journal", str(path))
    assert verified.returncode == 0, verified.stdout
    assert "ok   running-totals" in verified.stdout and "ok   chain-totals" in verified.stdout
    journal.close()


async def test_a_steady_stream_lingers_then_goes_in_one_transaction(chain: Chain, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    # This journal starts behind the chain the first test pushed to: it
    # records those batches from their accounts first.
    journal.add([RevenueEvent.checked(f"S-{n}", "other", "1.00") for n in range(5)])
    assert await push(chain, journal, linger_secs=30) == 0
    assert journal.totals()["backlog_events"] == 5, "a partial batch waits for the linger time"
    journal.add([RevenueEvent.checked(f"T-{n}", "other", "1.00") for n in range(40)])
    assert await push(chain, journal) == 1
    assert journal.totals()["backlog_events"] == 0
    chain_only = [entry["ref"] for entry in journal.audit_trail() if entry["action"] == "chain_only"]
    assert chain_only and all(ref.startswith("chain:") for ref in chain_only)
    assert journal.totals()["confirmed"] == (await on_chain(chain))[1]
    journal.close()


def test_archive_moves_confirmed_events_with_a_checksum_and_keeps_totals(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    journal.add([RevenueEvent.checked(f"A-{n}", "course_sale", f"{n}.50") for n in range(1, 51)])
    for seq in (1, 2):
        batch = journal.open_batch(seq, 32)
        assert batch is not None
        journal.confirm(batch, f"sig-{seq}")
    before = journal.totals()
    assert (before["confirmed"], before["backlog_events"]) == (sum(n * 100 + 50 for n in range(1, 51)), 0)
    journal.add([RevenueEvent.checked("LATER", "other", "3")])

    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()
    bad_date = aistm7("journal", "archive", "--before", "yesterday", "--journal", str(path))
    archived = aistm7("journal", "archive", "--before", tomorrow, "--journal", str(path))
    nothing = aistm7("journal", "archive", "--before", tomorrow, "--journal", str(path))
    assert bad_date.returncode == 2 and "ISO 8601" in bad_date.stderr
    assert archived.returncode == 0 and "archived 50 events" in archived.stdout, archived.stderr
    assert nothing.returncode == 0 and "nothing confirmed" in nothing.stdout
    archive = path.parent / "archive" / "revenue-1-2.jsonl"
    lines = [json.loads(line) for line in archive.read_text().splitlines()]
    assert len(lines) == 50 and lines[0]["ref"] == "A-1" and lines[-1]["batch"] == 2
    assert Path(f"{archive}.sha256").read_text() == f"{sha256_of(archive)}  {archive.name}\n"
    assert journal.db.execute("SELECT COUNT(*) FROM revenue").fetchone()[0] == 1
    assert journal.totals() == {**before, "total": before["total"] + 300, "backlog": 300, "backlog_events": 1, "other": 300}
    # An archived reference delivered again is still a duplicate, or a conflict.
    assert journal.add([RevenueEvent.checked("A-7", "course_sale", "7.50")]) == (0, 1)
    with pytest.raises(Exception, match="recorded as course_sale 750 cents"):
        journal.add([RevenueEvent.checked("A-7", "course_sale", "7.51")])
    assert aistm7("journal", "verify", "--offline", "--journal", str(path)).returncode == 0
    # An archived event still has its proof: the batch's tree stays in the journal.
    proved = aistm7("revenue", "prove", "A-40", "--journal", str(path))
    assert proved.returncode == 0, proved.stderr
    claim = revenue_proof.check(json.loads(proved.stdout))
    assert (claim.batch_seq, claim.event["cents"], claim.root.sums) == (2, 4_050, (sum(n * 100 + 50 for n in range(33, 51)), 0, 0, 18))

    archive.write_text(archive.read_text().replace('"amount_cents": 150', '"amount_cents": 151'))
    tampered = aistm7("journal", "verify", "--offline", "--journal", str(path))
    assert tampered.returncode == 1 and "FAIL archive revenue-1-2.jsonl" in tampered.stdout
    journal.close()


def test_a_damaged_journal_is_kept_aside_by_a_restore(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite3"
    journal = Journal(good)
    journal.add([RevenueEvent.checked("R-1", "other", "1.00")])
    journal.close()
    backup = tmp_path / "backup.sqlite3"
    assert aistm7("journal", "backup", str(backup), "--journal", str(good)).returncode == 0
    damaged = tmp_path / "journal.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    Path(f"{backup}.sha256").write_text("0" * 64 + "  backup.sqlite3\n")
    mismatch = aistm7("journal", "restore", str(backup), "--journal", str(damaged))
    assert mismatch.returncode == 2 and "does not match its checksum" in mismatch.stderr
    Path(f"{backup}.sha256").unlink()
    restored = aistm7("journal", "restore", str(backup), "--journal", str(damaged))
    assert restored.returncode == 0, restored.stderr
    kept = list(tmp_path.glob("journal.sqlite3.before-restore-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"SQLite format 3\x00\xff")
    restored_journal = Journal(damaged)
    assert restored_journal.totals()["backlog_events"] == 1

    # Restored again over a readable journal: its contents are swapped in one
    # transaction, and what it held (LIVE-1) is kept beside it.
    restored_journal.add([RevenueEvent.checked("LIVE-1", "other", "2.00")])
    again = aistm7("journal", "restore", str(backup), "--journal", str(damaged))
    assert again.returncode == 0, again.stderr
    assert [event.ref for event in restored_journal.held("backlog")] == ["R-1"], "the open connection sees the restore"
    kept = sorted(tmp_path.glob("journal.sqlite3.before-restore-*Z"), key=lambda found: found.stat().st_mtime)[-1]
    assert [event.ref for event in Journal(kept).held("backlog")] == ["R-1", "LIVE-1"]
    assert aistm7("journal", "verify", "--offline", "--journal", str(damaged)).returncode == 0
    restored_journal.close()


async def test_a_restored_pending_batch_is_checked_against_the_chain(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    await push(chain, journal)  # caught up with the chain
    journal.add([RevenueEvent.checked("X", "other", "1.00")])
    journal.db.execute(  # an older keeper's event above the program's maximum
        "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at) "
        "VALUES ('Y', 'other', 2000000000, '2026-11-30', '2026-11-30', '2026-11-30')"
    )
    batch = journal.open_batch(journal.last_confirmed_seq() + 1)
    assert batch is not None and len(batch.ids) == 1 and [event.ref for event in journal.held()] == ["Y"]
    backup = tmp_path / "with-pending.sqlite3"
    assert aistm7("journal", "backup", str(backup), "--journal", str(path)).returncode == 0

    assert await push(chain, journal) == 1
    seq, total = await on_chain(chain)
    assert seq == batch.seq
    # A second pusher on the same journal is refused while one runs.
    with journal.push_lock():
        second = aistm7("revenue", "push", "--rpc-url", chain.rpc_url, "--keypair", str(chain.keeper_file), "--journal", str(path))
    assert second.returncode == 1 and "another process is pushing" in second.stderr

    # Restored, the pending batch [X] is on-chain with its root: confirmed, not sent again.
    assert aistm7("journal", "restore", str(backup), "--journal", str(path)).returncode == 0
    assert await push(chain, journal) == 0
    assert await on_chain(chain) == (seq, total), "nothing pushed twice"
    assert journal.totals()["confirmed"] == total and journal.last_confirmed_seq() == seq

    # Backed up with [X2] pending as the next batch; the live journal then
    # sent [X2, X3] under that number (as another sender would have).
    journal.add([RevenueEvent.checked("X2", "other", "2.00")])
    pending = journal.open_batch(seq + 1)
    assert pending is not None
    assert aistm7("journal", "backup", str(tmp_path / "x2.sqlite3"), "--journal", str(path)).returncode == 0
    journal.release(pending)
    journal.add([RevenueEvent.checked("X3", "other", "3.00")])
    assert await push(chain, journal) == 1
    landed = await on_chain(chain)
    # Restored, [X2] is not what the chain's batch holds: it is released and
    # the batch recovered from its account; X2 may be on-chain, so it is held.
    assert aistm7("journal", "restore", str(tmp_path / "x2.sqlite3"), "--journal", str(path)).returncode == 0
    assert await push(chain, journal) == 0
    assert await on_chain(chain) == landed, "nothing pushed twice"
    assert journal.totals()["confirmed"] == landed[1]
    assert [event.ref for event in journal.held()] == ["Y", "X2"]
    assert [entry["ref"] for entry in journal.audit_trail() if entry["action"] == "chain_only"][-1] == f"chain:{seq + 1}:other"
    journal.close()


async def test_a_lost_journal_is_restored_from_a_backup_and_the_chain(chain: Chain, tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    secret = b"s3cret"
    # Yesterday: a journal caught up with the chain, then two events not yet pushed; backed up.
    journal = Journal(path)
    journal.add([RevenueEvent.checked("OLD-1", "course_sale", "10.00")])
    await push(chain, journal)
    journal.add([RevenueEvent.checked("B-1", "subscription", "20.00"), RevenueEvent.checked("B-2", "other", "30.00")])
    journal.close()
    backup = tmp_path / "backups" / "journal-yesterday.sqlite3"
    made = aistm7("journal", "backup", str(backup), "--journal", str(path))
    assert made.returncode == 0 and Path(f"{backup}.sha256").exists(), made.stderr
    assert aistm7("journal", "backup", str(backup), "--journal", str(path)).returncode == 2, "never overwritten"

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    daemon = start_keeper(chain.rpc_url, chain.keeper_file, path, port, "--push-interval", "0.3", "--push-linger", "0", secret=secret)
    try:
        await wait_listening(base)
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:

            async def deliver(ref: str, amount: str) -> httpx.Response:
                body = json.dumps({"ref": ref, "source": "course_sale", "amount": amount}).encode()
                return await http.post("/revenue", content=body, headers={SIGNATURE_HEADER: sign(secret, body, int(time.time()))})

            async def settled() -> dict[str, object]:
                for _ in range(150):
                    health = await http.get("/health")
                    local = health.json().get("journal", {})
                    if health.status_code == 200 and local["backlog_events"] == 0 and local["pending_batch"] is None:
                        return dict(health.json())
                    await asyncio.sleep(0.2)
                raise AssertionError(health.text)

            # Today: B-1 and B-2 are pushed, then C-1..C-3 arrive and are pushed.
            await settled()
            for n in range(1, 4):
                assert (await deliver(f"C-{n}", f"{n}.11")).status_code == 201
            await settled()
            seq_before_loss, total_before_loss = await on_chain(chain)

            # The journal is deleted under the running keeper: it refuses to write into the void.
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
            refused = await deliver("D-1", "4.00")
            unhealthy = await http.get("/health")
            assert (refused.status_code, refused.json()["error"]) == (503, "journal_unavailable")
            assert unhealthy.status_code == 503 and any("is gone" in reason for reason in unhealthy.json()["reasons"])

            restored = aistm7("journal", "restore", str(backup), "--journal", str(path))
            assert restored.returncode == 0, restored.stderr
            health = await settled()
            assert await on_chain(chain) == (seq_before_loss, total_before_loss), "nothing was pushed twice"
            assert health["ok"] and health["journal"]["confirmed"] == total_before_loss  # type: ignore[index]
            assert (await deliver("D-1", "4.00")).status_code == 201, "the provider's retry now lands"
            await settled()
    finally:
        output = stop_keeper(daemon)
    assert "recovering from the chain" in output

    journal = Journal(path)
    trail = journal.audit_trail()
    trail = trail[max(n for n, entry in enumerate(trail) if entry["action"] == "restored"):]
    recovered = [entry["ref"] for entry in trail if entry["action"] == "recovered"]
    chain_only = [entry for entry in trail if entry["action"] == "chain_only"]
    assert recovered == ["B-1", "B-2"], "the backup's unpushed events are the ones the chain's batch holds"
    cents = [int(entry["detail"].split(" ")[1]) for entry in chain_only]
    assert all(entry["detail"].startswith("course_sale") for entry in chain_only) and sum(cents) == 633, (
        "what only the lost journal had is recorded from the batch accounts"
    )
    assert journal.totals()["confirmed"] == (await on_chain(chain))[1]
    journal.close()
    shown = aistm7("journal", "trail", "--journal", str(path))
    assert "chain_only" in shown.stdout and "restored" in shown.stdout


async def test_health_names_each_way_the_keeper_is_not_doing_its_job(chain: Chain, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    scheduler = Scheduler(KeeperMetrics())
    policy = HealthPolicy(max_age_secs=1)
    try:
        await push_revenue.run(client, journal)  # caught up with the chain
        assert (await judge(journal, scheduler, client, policy)).ok

        # A push job that has not succeeded for longer than the limit (a hung RPC gives no errors).
        scheduler.status["push_revenue"] = JobStatus()
        scheduler.started_at -= 5
        stuck = await judge(journal, scheduler, client, policy)
        assert [reason for reason in stuck.reasons if "push_revenue has not succeeded" in reason]
        del scheduler.status["push_revenue"]

        # An event unpushed, then held, for longer than the limit.
        journal.add([RevenueEvent.checked("H-1", "other", "1.00")])
        await asyncio.sleep(1.2)
        waiting = await judge(journal, scheduler, client, policy)
        assert [reason for reason in waiting.reasons if "oldest unpushed event" in reason]
        batch = journal.open_batch(journal.last_confirmed_seq() + 1)
        assert batch is not None
        await asyncio.sleep(1.2)
        failing = await judge(journal, scheduler, client, policy)
        assert [reason for reason in failing.reasons if f"batch {batch.seq} has been failing" in reason]
        journal.release(batch)
        journal.db.execute(  # an older keeper's event above the program's maximum: held at the next batch
            "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at) "
            "VALUES ('H-2', 'other', 2000000000, '2026-11-30', '2026-11-30', '2026-11-30')"
        )
        assert (reopened := journal.open_batch(batch.seq)) is not None
        journal.release(reopened)
        await asyncio.sleep(1.2)
        held = await judge(journal, scheduler, client, policy)
        assert [reason for reason in held.reasons if "1 quarantined events" in reason]
        journal.void("H-1", "test")
        journal.void("H-2", "test")

        # A journal ahead of the chain: the chain was reset under it.
        journal.db.execute(
            "INSERT INTO batches (seq, status, total_cents, created_at) VALUES (999, 'confirmed', 0, '2026-01-01T00:00:00+00:00')"
        )
        reset = await judge(journal, scheduler, client, policy)
        assert reset.reasons == [f"the journal confirmed batch 999, the program has only {(await on_chain(chain))[0]}"]
    finally:
        await client.close()
        journal.close()
