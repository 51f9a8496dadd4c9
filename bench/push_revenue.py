"""Benchmark: ingest revenue events through the keeper's HTTP webhook and push
them on-chain in batches, against the same kind of events pushed one per
transaction, measured in the same run on a fresh local validator.

    scripts/bench [--events 100000] [--baseline-events 2000]

Prints events/s ingested, events/s pushed, transactions used, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from solders.keypair import Keypair
from spl.token.constants import MINT_LEN

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keeper import revenue_tree  # noqa: E402
from keeper.client import Aistm7Client  # noqa: E402
from keeper.deploy import deploy, deploy_buyback  # noqa: E402
from keeper.jobs import push_revenue  # noqa: E402
from keeper.journal import Journal  # noqa: E402
from keeper.state import Authorities, BuybackParams, OracleParams  # noqa: E402
from keeper.token import create_mint_ixs  # noqa: E402
from keeper.webhook import SIGNATURE_HEADER, sign  # noqa: E402

SECRET = b"bench-secret"
CONCURRENCY = 16


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getHealth"})
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def setup_chain(rpc_url: str, keeper: Keypair) -> None:
    deployer = Keypair()
    async with httpx.AsyncClient() as http:
        for key in (deployer, keeper):
            await http.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": [str(key.pubkey()), 100 * 10**9]})
    await asyncio.sleep(1)
    client = Aistm7Client.connect(rpc_url, deployer)
    try:
        guardian = Keypair().pubkey()  # the program refuses an admin that is also the guardian
        roles = Authorities(deployer.pubkey(), guardian, keeper.pubkey(), deployer.pubkey(), deployer.pubkey())
        await deploy(client, Keypair(), OracleParams(primary_feed_id=b"\x01" * 32), roles)
        quote = Keypair()
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
        await client.send(create_mint_ixs(deployer.pubkey(), quote.pubkey(), deployer.pubkey(), 6, rent), [quote])
        await deploy_buyback(client, deployer, quote.pubkey(), BuybackParams(token_feed_id=b"\x01" * 32, usd_zar_feed_id=b"\x02" * 32), [deployer.pubkey()])
    finally:
        await client.close()


async def ingest(url: str, count: int, prefix: str) -> float:
    """POST `count` signed webhooks with CONCURRENCY in flight; returns seconds."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(count):
        queue.put_nowait(n)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = json.dumps({"ref": f"{prefix}-{n}", "source": ("course_sale", "subscription", "other")[n % 3], "amount": f"{1 + n % 500}.{n % 100:02d}"}).encode()
            response = await http.post(url, content=body, headers={SIGNATURE_HEADER: sign(SECRET, body, int(time.time()))})
            if response.status_code != 201:
                raise RuntimeError(f"event {n}: {response.status_code} {response.text}")

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(worker(http) for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def push_batched(rpc_url: str, keeper: Keypair, journal: Journal) -> tuple[float, int]:
    """The keeper's push job: batches of up to 32 events."""
    client = Aistm7Client.connect(rpc_url, keeper)
    started = time.perf_counter()
    try:
        result = await push_revenue.run(client, journal)
    finally:
        await client.close()
    return time.perf_counter() - started, result.txs


async def push_one_by_one(rpc_url: str, keeper: Keypair, count: int) -> float:
    """The same kind of events, one `report_revenue` transaction each."""
    client = Aistm7Client.connect(rpc_url, keeper)
    try:
        found = await client.fetch_buyback()
        assert found is not None
        seq = found.data.last_batch_seq
        started = time.perf_counter()
        for n in range(count):
            seq += 1
            root = revenue_tree.root([revenue_tree.leaf(f"one-{n}", "other", 100 + n % 50_000)])
            await client.send([client.report_revenue_ix(keeper.pubkey(), seq, root)])
        return time.perf_counter() - started
    finally:
        await client.close()


async def main(events: int, baseline_events: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="aistm7-bench-"))
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "aistm7" / "target"))
    validator_bin = Path(os.environ.get("AISTM7_LOCALNET_BIN", target / "debug" / "aistm7-localnet"))
    rpc_port, http_port = free_port(), free_port()
    rpc_url = f"http://127.0.0.1:{rpc_port}"
    keeper = Keypair()
    keyfile = workdir / "keeper.json"
    keyfile.write_text(json.dumps(list(bytes(keeper))))
    validator = subprocess.Popen([str(validator_bin), "--rpc-port", str(rpc_port), "--ledger", str(workdir / "ledger"), "--reset", "--quiet"], stdout=subprocess.DEVNULL)
    daemon = None
    try:
        await wait_http(rpc_url)
        await setup_chain(rpc_url, keeper)
        batched_journal = workdir / "journal.sqlite3"
        # Ingest through the daemon's webhook; the push job is parked (1 day) so pushes are timed alone.
        daemon = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "aistm7"), "keeper", "run", "--rpc-url", rpc_url, "--keypair", str(keyfile),
             "--journal", str(batched_journal), "--http-port", str(http_port), "--push-interval", "86400", "--no-priority-fee"],
            env={**os.environ, "AISTM7_WEBHOOK_SECRET": SECRET.decode()}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{http_port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
        ingest_secs = await ingest(f"http://127.0.0.1:{http_port}/revenue", events, "B")
        daemon.terminate()
        daemon.wait(timeout=60)
        daemon = None

        journal = Journal(batched_journal)
        batched_secs, batched_txs = await push_batched(rpc_url, keeper, journal)
        batched_total = journal.totals()["confirmed"]
        journal.close()
        single_secs = await push_one_by_one(rpc_url, keeper, baseline_events)
    finally:
        if daemon is not None:
            daemon.terminate()
        validator.terminate()
        validator.wait(timeout=30)

    ingest_rate = events / ingest_secs
    batched_rate = events / batched_secs
    single_rate = baseline_events / single_secs
    print(f"ingested {events} events over HTTP in {ingest_secs:.1f} s: {ingest_rate:.0f} events/s")
    print(f"pushed {events} events ({batched_total} cents) in {batched_txs} transactions, {batched_secs:.1f} s: {batched_rate:.0f} events/s")
    print(f"baseline: {baseline_events} events one per transaction, {single_secs:.1f} s: {single_rate:.1f} events/s")
    print(f"ratio: {events / batched_txs:.1f}x fewer transactions per event, {batched_rate / single_rate:.1f}x events/s pushed")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--baseline-events", type=int, default=2_000, help="events pushed one per transaction")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    asyncio.run(main(args.events, args.baseline_events))
