"""Benchmark: revenue from webhook to proof, on a fresh local validator, with
the baselines measured in the same run.

    scripts/bench [--events 100000] [--clients 4] [--connections 32] [--baseline-events 300] [--proofs 200]

1. HTTP ingestion: `aistm7 keeper run` (the real daemon) takes `--events`
   signed webhooks from `--clients` processes of bench/load_client.py
   (raw keep-alive HTTP/1.1, every request signed before the clock starts),
   first with the push job parked, then again with it pushing every 2 s.
   Baseline: the same journal taking one event per transaction.
2. Push: the parked events go on-chain (one transaction expected), against
   one `report_revenue` transaction per event (`--baseline-events` of them).
3. Proofs: `--proofs` events of the big batch proven from the journal and
   checked against the chain (library calls), and one through the CLI.
4. Journal size per event.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
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

from keeper import revenue_proof, revenue_tree  # noqa: E402
from keeper.addresses import PROGRAM_ID  # noqa: E402
from keeper.client import Aistm7Client  # noqa: E402
from keeper.deploy import deploy, deploy_buyback  # noqa: E402
from keeper.jobs import push_revenue  # noqa: E402
from keeper.journal import Journal, RevenueEvent  # noqa: E402
from keeper.journal.proofs import prove  # noqa: E402
from keeper.state import Authorities, BuybackParams, OracleParams  # noqa: E402
from keeper.token import create_mint_ixs  # noqa: E402

SECRET = b"bench-secret"
AISTM7 = str(ROOT / ".venv" / "bin" / "aistm7")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_http(url: str) -> None:
    """Until something answers HTTP at `url` (any status)."""
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


async def setup_chain(rpc_url: str, keeper: Keypair) -> None:
    deployer = Keypair()
    async with httpx.AsyncClient() as http:
        for key in (deployer, keeper):
            await http.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": [str(key.pubkey()), 1_000 * 10**9]})
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


def start_daemon(rpc_url: str, keyfile: Path, journal: Path, port: int, push_interval: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [AISTM7, "keeper", "run", "--rpc-url", rpc_url, "--keypair", str(keyfile), "--journal", str(journal),
         "--http-port", str(port), "--push-interval", push_interval, "--push-linger", "0", "--no-priority-fee"],
        env={**os.environ, "AISTM7_WEBHOOK_SECRET": SECRET.decode()}, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=60)


def ingest(port: int, events: int, clients: int, connections: int, prefix: str) -> float:
    """Events/s over all client processes, started together; every event must be 201."""
    start_at = time.time() + 3 + events / 40_000  # time to build and sign the requests
    share = events // clients
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load_client.py"), f"http://127.0.0.1:{port}", SECRET.decode(),
             f"{prefix}{n}", str(share), str(connections), str(start_at)],
            stdout=subprocess.PIPE, text=True,
        )
        for n in range(clients)
    ]
    results = [json.loads(proc.communicate(timeout=600)[0]) for proc in procs]
    for result in results:
        if result["statuses"] != {"201": share}:
            raise RuntimeError(f"not every event was recorded: {result['statuses']}")
    return float(share * clients / max(result["seconds"] for result in results))


def one_event_per_transaction(path: Path, count: int) -> float:
    """The journal taking one event per transaction (fsync each): events/s."""
    journal = Journal(path)
    started = time.perf_counter()
    for n in range(count):
        journal.add([RevenueEvent.checked(f"ONE-{n}", "other", "1.00")])
    journal.close()
    return count / (time.perf_counter() - started)


async def push(rpc_url: str, keeper: Keypair, journal: Journal) -> tuple[float, int]:
    client = Aistm7Client.connect(rpc_url, keeper)
    started = time.perf_counter()
    try:
        result = await push_revenue.run(client, journal)
    finally:
        await client.close()
    return time.perf_counter() - started, result.txs


async def push_one_by_one(rpc_url: str, keeper: Keypair, count: int) -> float:
    """`count` events, one `report_revenue` transaction each: seconds per transaction."""
    client = Aistm7Client.connect(rpc_url, keeper)
    try:
        found = await client.fetch_buyback()
        assert found is not None
        seq = found.data.last_batch_seq
        started = time.perf_counter()
        for n in range(count):
            seq += 1
            root = revenue_tree.root([revenue_tree.leaf(f"ONE-{n}", "other", 100 + n)])
            await client.send([client.report_revenue_ix(keeper.pubkey(), seq, root)])
        return (time.perf_counter() - started) / count
    finally:
        await client.close()


async def proofs(rpc_url: str, journal: Journal, refs: list[str]) -> tuple[list[float], list[float]]:
    """Seconds to prove each event from the journal, and to check each proof against the chain."""
    client = Aistm7Client.connect(rpc_url, Keypair())
    made, checked = [], []
    try:
        for ref in refs:
            started = time.perf_counter()
            doc = revenue_proof.document(PROGRAM_ID, prove(journal, ref))
            made.append(time.perf_counter() - started)
            started = time.perf_counter()
            claim = revenue_proof.check(json.loads(json.dumps(doc)))
            landed = (await client.fetch_revenue_batches([claim.batch_seq])).get(claim.batch_seq)
            revenue_proof.on_chain(claim, landed)
            checked.append(time.perf_counter() - started)
    finally:
        await client.close()
    return made, checked


def cli_round_trip(rpc_url: str, journal: Path, ref: str, workdir: Path) -> tuple[float, float]:
    proof = workdir / "proof.json"
    started = time.perf_counter()
    subprocess.run([AISTM7, "revenue", "prove", ref, "--journal", str(journal), "--out", str(proof)], check=True, capture_output=True)
    proved = time.perf_counter()
    subprocess.run([AISTM7, "audit", "verify-proof", str(proof), "--rpc-url", rpc_url], check=True, capture_output=True)
    return proved - started, time.perf_counter() - proved


def ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000:.2f} ms"


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="aistm7-bench-"))
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "aistm7" / "target"))
    validator_bin = Path(os.environ.get("AISTM7_LOCALNET_BIN", target / "debug" / "aistm7-localnet"))
    rpc_port, http_port = free_port(), free_port()
    rpc_url = f"http://127.0.0.1:{rpc_port}"
    keeper = Keypair()
    keyfile = workdir / "keeper.json"
    keyfile.write_text(json.dumps(list(bytes(keeper))))
    journal_path = workdir / "journal.sqlite3"
    log = workdir / "keeper.log"
    validator = subprocess.Popen([str(validator_bin), "--rpc-port", str(rpc_port), "--ledger", str(workdir / "ledger"), "--reset", "--quiet"], stdout=subprocess.DEVNULL)
    events = args.events
    try:
        await wait_http(rpc_url)
        await setup_chain(rpc_url, keeper)

        daemon = start_daemon(rpc_url, keyfile, journal_path, http_port, "86400", log)
        await wait_http(f"http://127.0.0.1:{http_port}/metrics")
        parked_rate = ingest(http_port, events, args.clients, args.connections, "A")
        stop(daemon)
        single_commit_rate = one_event_per_transaction(workdir / "single.sqlite3", 2_000)

        journal = Journal(journal_path)
        push_secs, push_txs = await push(rpc_url, keeper, journal)
        big_batch = journal.last_confirmed_seq()
        refs = [f"A{n}-{m}" for n, m in ((random.randrange(args.clients), random.randrange(events // args.clients)) for _ in range(args.proofs))]
        made, checked = await proofs(rpc_url, journal, refs)
        journal.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = journal_path.stat().st_size
        tree_bytes = journal.db.execute("SELECT SUM(LENGTH(nodes)) FROM batch_levels").fetchone()[0]
        journal.close()
        cli_prove, cli_verify = cli_round_trip(rpc_url, journal_path, refs[0], workdir)

        daemon = start_daemon(rpc_url, keyfile, journal_path, http_port, "2", log)
        await wait_http(f"http://127.0.0.1:{http_port}/metrics")
        pushing_rate = ingest(http_port, events, args.clients, args.connections, "B")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as http:
            for _ in range(600):
                local = (await http.get("/health")).json().get("journal", {})
                if local.get("backlog_events") == 0 and local.get("pending_batch") is None:
                    break
                await asyncio.sleep(0.5)
        stop(daemon)
        journal = Journal(journal_path)
        pushed_batches = journal.last_confirmed_seq() - big_batch
        confirmed = journal.totals()
        journal.close()
        per_tx = await push_one_by_one(rpc_url, keeper, args.baseline_events)
    finally:
        validator.terminate()
        validator.wait(timeout=30)

    print(f"host: {os.cpu_count()} cores; client: {args.clients} processes of bench/load_client.py x {args.connections} keep-alive connections")
    print("| measure | baseline (same run) | now | ratio |")
    print("|---|---|---|---|")
    print(f"| HTTP ingestion, events/s, push job parked | {single_commit_rate:,.0f} (one event per journal transaction) | {parked_rate:,.0f} | {parked_rate / single_commit_rate:.1f}x |")
    print(f"| HTTP ingestion, events/s, pushing every 2 s | {single_commit_rate:,.0f} | {pushing_rate:,.0f} ({pushed_batches} batches) | {pushing_rate / single_commit_rate:.1f}x |")
    print(f"| on-chain transactions for {events:,} events | {events:,} (one per event, {per_tx * 1000:.0f} ms each: {events * per_tx:,.0f} s) | {push_txs} ({push_secs:.1f} s) | {events / max(push_txs, 1):,.0f}x |")
    print(f"| prove one event of a {events:,}-event batch (journal) | | {ms(made)} | |")
    print(f"| verify one proof against the chain (parse, walk, RPC) | | {ms(checked)} | |")
    print(f"| prove + verify together | goal < 100 ms | median {(statistics.median(made) + statistics.median(checked)) * 1000:.2f} ms | |")
    print(f"| the same through the CLI (two processes, start-up included) | | {cli_prove * 1000:.0f} + {cli_verify * 1000:.0f} ms | |")
    print(f"| journal size per event | | {size / events:,.0f} bytes ({tree_bytes / events:,.0f} of them the batch's tree) | |")
    print(f"confirmed in the journal and on-chain: {confirmed['confirmed']:,} cents over {2 * events:,} events; backlog {confirmed['backlog_events']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections per client process")
    parser.add_argument("--baseline-events", type=int, default=300, help="events pushed one per transaction")
    parser.add_argument("--proofs", type=int, default=200, help="events proven and verified")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    asyncio.run(main(args))
