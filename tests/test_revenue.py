"""The revenue journal and its pushes, on a chain of their own (the keeper is
the only reporter there): exactly-once across a crash, duplicates, bad input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from solana.exceptions import SolanaRpcException

from keeper.client import Aistm7Client
from keeper.jobs import push_revenue
from keeper.journal import ConflictingDuplicate, Journal, RevenueEvent
from keeper.money import InvalidRevenue, parse_amount
from keeper.webhook import MAX_BODY_BYTES, SIGNATURE_HEADER, parse_event, sign
from tests.conftest import ROOT, Chain, _free_port, aistm7, revenue_chain


@pytest.fixture(scope="module")
def chain(xprocess, tmp_path_factory) -> Iterator[Chain]:  # type: ignore[no-untyped-def]
    yield from revenue_chain(xprocess, tmp_path_factory, "localnet-revenue")


def test_amounts_and_events_are_checked_before_they_are_journaled(tmp_path: Path) -> None:
    """One grammar for money: ASCII decimal ZAR, at most two decimals, above
    zero, at most the per-event maximum; exactly "ZAR"; clean references."""
    assert parse_amount("1499.00") == 149_900
    assert parse_amount("15") == 1_500
    assert parse_amount("0.5") == 50
    assert parse_amount("10000000") == 1_000_000_000
    bad_amounts = (
        "0", "0.00", "-1", "+5", "1.001", "abc", "NaN", "sNaN", "Infinity", "1e3", "1_000", "1,000",
        " 10", "10 ", "\u0661\u0660", "\uff11", "", ".5", "5.", str(2**63), "92233720368547758.07", "10000000.01",
    )
    for bad in bad_amounts:
        with pytest.raises(InvalidRevenue):
            parse_amount(bad)
    with pytest.raises(InvalidRevenue, match="unknown source"):
        RevenueEvent.checked("INV-1", "donation", "10")
    for currency in ("USD", "zar", "", " ZAR"):
        with pytest.raises(InvalidRevenue, match="currency"):
            RevenueEvent.checked("INV-1", "other", "10", currency=currency)
    for ref in ("", " INV-1", "INV-1\n2026-01-01 INFO forged", "INV\x00-1", "INV\u2028-1", "INV\u200b-1", "x" * 129):
        with pytest.raises(InvalidRevenue, match="reference"):
            RevenueEvent.checked(ref, "other", "10")
    for when in ("yesterday", "2026-01-01T00:00:00", "2999-01-01T00:00:00+00:00"):
        with pytest.raises(InvalidRevenue, match="received_at"):
            RevenueEvent.checked("INV-1", "other", "10", received_at=when)
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal.add([RevenueEvent.checked("INV-1", "other", "10")]) == (1, 0)
    assert journal.add([RevenueEvent.checked("INV-1", "other", "10")]) == (0, 1)
    # The same reference with another amount or source is a conflict: nothing
    # of that call is recorded, and the stored values are named.
    for source, amount in (("other", "11"), ("course_sale", "10")):
        with pytest.raises(ConflictingDuplicate) as conflict:
            journal.add([RevenueEvent.checked("INV-2", "other", "5"), RevenueEvent.checked("INV-1", source, amount)])
        assert (conflict.value.source, conflict.value.amount_cents) == ("other", 1_000)
    assert journal.totals()["total"] == 1_000


def test_webhook_bodies_follow_the_same_grammar() -> None:
    good = {"ref": "W-1", "source": "other", "amount": "10.50"}
    assert parse_event(json.dumps(good).encode()).amount_cents == 1_050
    assert parse_event(json.dumps({**good, "currency": "ZAR"}).encode()).amount_cents == 1_050
    for change in ({"currency": None}, {"currency": ""}, {"currency": "zar"}, {"amount": 10.5}, {"ref": None},
                   {"amount": "1e3"}, {"received_at": 5}, {"source": ["other"]}):
        with pytest.raises(InvalidRevenue):
            parse_event(json.dumps({**good, **change}).encode())


def test_a_bad_csv_row_refuses_the_whole_file(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    good = tmp_path / "good.csv"
    # Spreadsheet exports start with a UTF-8 byte-order mark.
    good.write_bytes(b"\xef\xbb\xbfref,source,amount\nA-1,course_sale,1499.00\nA-2,subscription,99.99\nA-1,course_sale,1499.00\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("ref,source,amount,currency\nB-1,other,10.00,ZAR\nB-2,other,5.00,EUR\n")

    imported = aistm7("revenue", "import", str(good), "--journal", str(journal))
    refused = aistm7("revenue", "import", str(bad), "--journal", str(journal))

    assert imported.returncode == 0 and "added 2, duplicates 1" in imported.stdout, imported.stderr
    assert refused.returncode == 2 and "row 3" in refused.stderr and "EUR" in refused.stderr
    shown = json.loads(aistm7("revenue", "show", "--journal", str(journal), "--json").stdout)
    assert (shown["total"], shown["course_sale"], shown["subscription"], shown["other"]) == (159_899, 149_900, 9_999, 0)


def test_import_refuses_what_is_not_a_revenue_csv_without_a_traceback(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite3"
    cases = {
        "one-line.json": (b'{"ref": "J-1", "source": "other", "amount": "10"}', "header"),
        "binary.csv": (bytes(range(256)), "not UTF-8"),
        "snan.csv": (b"ref,source,amount\nS-1,other,sNaN\n", "row 2"),
        "huge.csv": (b"ref,source,amount\nH-1,other," + str(10**30).encode() + b"\n", "row 2"),
        "short-row.csv": (b"ref,source,amount\nR-1,other\n", "row 2"),
        "empty.csv": (b"ref,source,amount\n", "no rows"),
    }
    for name, (content, reason) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        refused = aistm7("revenue", "import", str(path), "--journal", str(journal))
        assert refused.returncode == 2 and reason in refused.stderr, (name, refused.stderr)
        assert "Traceback" not in refused.stderr
    assert not journal.exists() or Journal(journal).totals()["total"] == 0


CRASH_AFTER_SEND = """
import asyncio, json, os, signal, sys
from pathlib import Path
from solana.exceptions import SolanaRpcException
from solders.keypair import Keypair
from keeper.client import Aistm7Client
from keeper.jobs import push_revenue
from keeper.journal import Journal

async def main():
    keeper = Keypair.from_bytes(bytes(json.loads(Path(sys.argv[2]).read_text())))
    client = Aistm7Client.connect(sys.argv[1], keeper)
    await push_revenue.run(client, Journal(Path(sys.argv[3])), after_send=lambda: os.kill(os.getpid(), signal.SIGKILL))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def journal_path(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The keeper's journal for `chain`, kept across the tests that push."""
    return tmp_path_factory.mktemp("keeper") / "journal.sqlite3"


async def test_a_keeper_killed_after_sending_pushes_nothing_twice(chain: Chain, journal_path: Path) -> None:
    path = journal_path
    journal = Journal(path)
    journal.add([RevenueEvent.checked(f"K-{n}", ("course_sale", "subscription", "other")[n % 3], f"{n}.25") for n in range(1, 41)])
    expected = journal.totals()["total"]

    crashed = subprocess.run(
        [sys.executable, "-c", CRASH_AFTER_SEND, chain.rpc_url, str(chain.keeper_file), str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert crashed.returncode == -9, crashed.stderr
    pending = journal.pending_batch()
    assert pending is not None and pending.seq == 1, "killed before the journal recorded the batch"

    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    try:
        # An RPC node that has the sequence but not yet the batch's account
        # (behind the one that answered): the batch stays pending, never
        # released (re-sending its events would count them twice).
        lagging = Aistm7Client.connect(chain.rpc_url, chain.keeper)
        lagging.fetch_revenue_batches = lambda seqs: asyncio.sleep(0, {})  # type: ignore[method-assign]
        with pytest.raises(push_revenue.JournalMismatch, match="not readable yet"):
            await push_revenue.run(lagging, journal)
        await lagging.close()
        assert journal.pending_batch() == pending
        result = await push_revenue.run(client, journal)
        buyback = (await client.fetch_buyback()).data  # type: ignore[union-attr]
    finally:
        await client.close()

    # Batch 1 (all 40 events) was confirmed from its account on-chain, not re-sent.
    assert result.txs == 0
    assert buyback.last_batch_seq == 1 == journal.last_confirmed_seq()
    assert buyback.revenue.total == expected == journal.totals()["confirmed"]
    totals = journal.totals()
    assert (buyback.revenue.course_sale, buyback.revenue.subscription, buyback.revenue.other) == (
        totals["course_sale"], totals["subscription"], totals["other"],
    )
    assert totals["backlog_events"] == 0


async def test_an_unreachable_rpc_loses_nothing_and_the_next_push_catches_up(chain: Chain, journal_path: Path) -> None:
    journal = Journal(journal_path)
    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    try:
        before = (await client.fetch_buyback()).data  # type: ignore[union-attr]
        journal.add([RevenueEvent.checked("U-1", "other", "12.34"), RevenueEvent.checked("U-2", "course_sale", "0.01")])
        dead = Aistm7Client.connect("http://127.0.0.1:9", chain.keeper)
        with pytest.raises(SolanaRpcException):
            await push_revenue.run(dead, journal)
        await dead.close()
        assert journal.totals()["backlog_events"] == 2
        assert (await client.fetch_buyback()).data.revenue.total == before.revenue.total  # type: ignore[union-attr]

        result = await push_revenue.run(client, journal)
        after = (await client.fetch_buyback()).data  # type: ignore[union-attr]
    finally:
        await client.close()

    assert result.txs == 1
    assert after.revenue.total - before.revenue.total == 1_235
    assert after.last_batch_seq == before.last_batch_seq + 1 == journal.last_confirmed_seq()
    assert after.revenue.total == journal.totals()["confirmed"]


def test_revenue_cli_add_refuses_bad_input_and_counts_duplicates(tmp_path: Path) -> None:
    journal = str(tmp_path / "j.sqlite3")
    ok = aistm7("revenue", "add", "--source", "course_sale", "--amount", "1499.00", "--ref", "INV-1", "--journal", journal)
    again = aistm7("revenue", "add", "--source", "course_sale", "--amount", "1499.00", "--ref", "INV-1", "--journal", journal)
    bad = aistm7("revenue", "add", "--source", "course_sale", "--amount", "-5", "--ref", "INV-2", "--journal", journal)
    poison = aistm7("revenue", "add", "--source", "other", "--amount", "92233720368547758.07", "--ref", "P", "--journal", journal)

    conflict = aistm7("revenue", "add", "--source", "course_sale", "--amount", "1.00", "--ref", "INV-1", "--journal", journal)
    assert ok.returncode == 0 and "added 1" in ok.stdout
    assert again.returncode == 0 and "duplicates 1" in again.stdout
    assert conflict.returncode == 2 and "recorded as course_sale 149900 cents" in conflict.stderr
    assert bad.returncode == 2 and "ASCII decimal" in bad.stderr
    assert poison.returncode == 2 and "per-event maximum" in poison.stderr
    above_program = aistm7("revenue", "add", "--source", "other", "--amount", "1", "--ref", "M-1", "--journal", journal,
                           "--max-event-zar", "10000000.01")
    above_configured = aistm7("revenue", "add", "--source", "other", "--amount", "150", "--ref", "M-2", "--journal", journal,
                              "--max-event-zar", "100")
    assert above_program.returncode == 2 and "--max-event-zar" in above_program.stderr
    assert above_configured.returncode == 2 and "per-event maximum of 100 ZAR" in above_configured.stderr
    assert json.loads(aistm7("revenue", "show", "--journal", journal, "--json").stdout)["total"] == 149_900


async def test_the_daemon_takes_signed_webhooks_once_and_pushes_them(
    chain: Chain, journal_path: Path, tmp_path: Path
) -> None:
    secret = b"shared-secret"
    port = _free_port()
    config = tmp_path / "keeper.toml"
    config.write_text(f'[keeper]\npush-interval = 1\nhttp-port = {port}\ntrigger-token = "t0k3n"\n')
    daemon = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "aistm7"), "keeper", "--config", str(config), "run", "--rpc-url", chain.rpc_url,
            "--keypair", str(chain.keeper_file), "--journal", str(journal_path),
        ],
        env={**os.environ, "AISTM7_WEBHOOK_SECRET": secret.decode()},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    client = Aistm7Client.connect(chain.rpc_url, chain.keeper)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            for _ in range(100):
                try:
                    if (await http.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            before = (await client.fetch_buyback()).data.revenue.total  # type: ignore[union-attr]
            body = json.dumps({"ref": "WH-1", "source": "subscription", "amount": "99.99"}).encode()
            now = int(time.time())
            signed = {SIGNATURE_HEADER: sign(secret, body, now)}

            first = await http.post("/revenue", content=body, headers=signed)
            again = await http.post("/revenue", content=body, headers=signed)
            tampered = await http.post("/revenue", content=body.replace(b"99.99", b"999.99"), headers=signed)
            unsigned = await http.post("/revenue", content=body)
            bad = json.dumps({"ref": "WH-2", "source": "subscription", "amount": 5}).encode()
            invalid = await http.post("/revenue", content=bad, headers={SIGNATURE_HEADER: sign(secret, bad, now)})
            huge = b"x" * (MAX_BODY_BYTES + 1)
            too_large = await http.post("/revenue", content=huge, headers={SIGNATURE_HEADER: sign(secret, huge, now)})
            other = body.replace(b"99.99", b"9.99")
            conflicting = await http.post("/revenue", content=other, headers={SIGNATURE_HEADER: sign(secret, other, now)})

            assert (first.status_code, first.json()["status"]) == (201, "recorded")
            assert (again.status_code, again.json()["status"]) == (200, "duplicate")
            assert (tampered.status_code, unsigned.status_code) == (401, 401)
            assert invalid.status_code == 400 and invalid.json()["error"] == "invalid_revenue"
            assert "decimal string" in invalid.json()["message"]
            assert too_large.status_code == 413 and too_large.json()["error"] == "body_too_large"
            assert conflicting.status_code == 409
            assert {key: conflicting.json()[key] for key in ("error", "ref", "stored")} == {
                "error": "conflicting_duplicate", "ref": "WH-1", "stored": {"source": "subscription", "amount_cents": 9_999},
            }
            for _ in range(100):
                total = (await client.fetch_buyback()).data.revenue.total  # type: ignore[union-attr]
                if total != before:
                    break
                await asyncio.sleep(0.2)
            assert total - before == 9_999, "pushed once, exactly"
            # The daemon records the batch once its send is confirmed to it,
            # which may be after a reader at "confirmed" sees the total.
            for _ in range(100):
                totals = (await http.get("/revenue")).json()
                if totals["confirmed"] == totals["total"]:
                    break
                await asyncio.sleep(0.2)
            health = (await http.get("/health")).json()
            no_token = await http.post("/buy-orders/trigger")
            unconfigured = await http.post("/buy-orders/trigger", headers={"Authorization": "Bearer t0k3n"})
            metrics = (await http.get("/metrics")).text
        assert health["ok"] and health["reasons"] == [], health
        assert health["rpc_reachable"] and health["jobs"]["push_revenue"]["last_success"] is not None
        assert (no_token.status_code, unconfigured.status_code) == (401, 409)
        assert totals["backlog_events"] == 0 and totals["confirmed"] == totals["total"]
        assert 'aistm7_revenue_received_total{outcome="duplicate"} 1.0' in metrics
        assert 'aistm7_revenue_received_total{outcome="bad_signature"} 1.0' in metrics
        assert 'aistm7_revenue_received_total{outcome="missing_signature"} 1.0' in metrics
        assert 'aistm7_job_runs_total{job="push_revenue"}' in metrics
    finally:
        await client.close()
        daemon.send_signal(signal.SIGTERM)
        output, _ = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, output
    assert "stopped" in output
