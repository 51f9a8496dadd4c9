"""Benchmark: the keeper's endpoints as its journal grows, /health with a
hung RPC, and how full batches are under a steady stream of webhooks; each
against a baseline measured in the same run, on a fresh local validator.

    scripts/bench-keeper [--rows 1000000] [--stream-events 2000] [--rate 50]

1. Endpoint latency (p50/p99 ms) with an empty journal (baseline) and with
   --rows confirmed events: GET /health, /metrics, /revenue, /status, POST
   /revenue, and POST /revenue while /metrics is scraped without pause.
2. /health with an RPC that accepts connections and never answers.
3. --stream-events webhooks at --rate events/s into a running keeper
   (push every 1 s): events per transaction with the linger time of
   `keeper run` (2 s) against no linger (baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

import httpx
from aiohttp import web
from solders.keypair import Keypair

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.revenue import SECRET, free_port, setup_chain, wait_http  # noqa: E402
from keeper.client import Aistm7Client  # noqa: E402
from keeper.health import HealthPolicy  # noqa: E402
from keeper.daemon import WRITER_BUSY_TIMEOUT_SECS  # noqa: E402
from keeper.http_api import make_app  # noqa: E402
from keeper.journal.group_commit import GroupCommit  # noqa: E402
from keeper.journal import Journal  # noqa: E402
from keeper.journal.store import now_iso  # noqa: E402
from keeper.metrics import KeeperMetrics  # noqa: E402
from keeper.scheduler import Scheduler  # noqa: E402
from keeper.webhook import SIGNATURE_HEADER, sign  # noqa: E402

SOURCES = ("course_sale", "subscription", "other")
SAMPLES = 200


def fill(path: Path, rows: int) -> None:
    """`rows` confirmed events in batches of 32, written as the keeper writes them."""
    journal = Journal(path)
    db = journal.db
    at = now_iso()
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO batches (seq, status, total_cents, created_at, confirmed_at) VALUES (?, 'confirmed', 0, ?, ?)",
        ((seq, at, at) for seq in range(1, rows // 32 + 2)),
    )
    db.executemany(
        "INSERT INTO revenue (ref, source, amount_cents, received_at, recorded_at, state_at, batch_seq, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'confirmed')",
        ((f"F-{n}", SOURCES[n % 3], 100 + n % 50_000, at, at, at, n // 32 + 1) for n in range(rows)),
    )
    db.execute("COMMIT")
    journal.close()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def timed(call: Callable[[], Awaitable[httpx.Response]], count: int = SAMPLES) -> tuple[float, float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = await call()
        samples.append(time.perf_counter() - started)
        if response.status_code >= 500 and response.status_code != 503:
            raise RuntimeError(f"{response.status_code} {response.text}")
    return percentiles(samples)


async def serve(journal: Journal, rpc_url: str, port: int) -> tuple[web.AppRunner, GroupCommit]:
    client = Aistm7Client.connect(rpc_url, Keypair())
    writer = GroupCommit(journal.path, busy_timeout_secs=WRITER_BUSY_TIMEOUT_SECS)
    writer.start()
    app = make_app(journal, writer, KeeperMetrics(), Scheduler(KeeperMetrics()), SECRET, None, client, HealthPolicy())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, writer


def delivery(ref: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"ref": ref, "source": SOURCES[n % 3], "amount": f"{1 + n % 500}.{n % 100:02d}"}).encode()
    return body, {SIGNATURE_HEADER: sign(SECRET, body, int(time.time()))}


async def endpoint_latency(rpc_url: str, workdir: Path, rows: int) -> dict[str, tuple[float, float]]:
    path = workdir / f"journal-{rows}.sqlite3"
    if rows:
        fill(path, rows)
    journal = Journal(path)
    port = free_port()
    runner, writer = await serve(journal, rpc_url, port)
    out: dict[str, tuple[float, float]] = {}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for route in ("/health", "/metrics", "/revenue", "/status"):
                out[f"GET {route}"] = await timed(lambda: http.get(route))
            counter = iter(range(10**9))

            async def post() -> httpx.Response:
                n = next(counter)
                body, headers = delivery(f"P-{rows}-{n}", n)
                return await http.post("/revenue", content=body, headers=headers)

            out["POST /revenue"] = await timed(post)
            scraping = True

            async def scrape() -> None:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as other:
                    while scraping:
                        await other.get("/metrics")

            scraper = asyncio.create_task(scrape())
            out["POST /revenue while /metrics is scraped"] = await timed(post)
            scraping = False
            await scraper
    finally:
        await runner.cleanup()
        writer.close()
        journal.close()
    return out


async def hung_health(workdir: Path) -> tuple[float, float]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    journal = Journal(workdir / "journal-hung.sqlite3")
    port = free_port()
    runner, writer = await serve(journal, f"http://127.0.0.1:{sock.getsockname()[1]}", port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                response = await http.get("/health")
                samples.append(time.perf_counter() - started)
                assert response.status_code == 503
    finally:
        await runner.cleanup()
        writer.close()
        journal.close()
        sock.close()
    return statistics.median(samples) * 1000, max(samples) * 1000


async def stream(rpc_url: str, keyfile: Path, keeper: Keypair, workdir: Path, events: int, rate: float, linger: float) -> tuple[int, int]:
    """Events posted at `rate` into a keeper pushing every second; (events, transactions)."""
    port = free_port()
    daemon = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "aistm7"), "keeper", "run", "--rpc-url", rpc_url, "--keypair", str(keyfile),
         "--journal", str(workdir / f"journal-stream-{linger}.sqlite3"), "--http-port", str(port), "--push-interval", "1",
         "--push-linger", str(linger), "--no-priority-fee"],
        env={**os.environ, "AISTM7_WEBHOOK_SECRET": SECRET.decode()}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = Aistm7Client.connect(rpc_url, keeper)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for _ in range(300):
                try:
                    health = await http.get("/health")
                    if health.status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            found = await client.fetch_buyback()
            assert found is not None
            seq_before = found.data.last_batch_seq
            started = time.perf_counter()
            for n in range(events):
                await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
                body, headers = delivery(f"S-{linger}-{n}", n)
                response = await http.post("/revenue", content=body, headers=headers)
                assert response.status_code == 201, response.text
            for _ in range(600):
                journal = (await http.get("/revenue")).json()
                if journal["backlog_events"] == 0 and journal["confirmed"] == journal["total"]:
                    break
                await asyncio.sleep(0.2)
        found = await client.fetch_buyback()
        assert found is not None
        return events, found.data.last_batch_seq - seq_before
    finally:
        await client.close()
        daemon.terminate()
        daemon.wait(timeout=60)


async def main(rows: int, stream_events: int, rate: float) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="aistm7-bench-keeper-"))
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "aistm7" / "target"))
    validator_bin = Path(os.environ.get("AISTM7_LOCALNET_BIN", target / "debug" / "aistm7-localnet"))
    rpc_port = free_port()
    rpc_url = f"http://127.0.0.1:{rpc_port}"
    keeper = Keypair()
    keyfile = workdir / "keeper.json"
    keyfile.write_text(json.dumps(list(bytes(keeper))))
    validator = subprocess.Popen(
        [str(validator_bin), "--rpc-port", str(rpc_port), "--ledger", str(workdir / "ledger"), "--reset", "--quiet"],
        stdout=subprocess.DEVNULL,
    )
    try:
        await wait_http(rpc_url)
        await setup_chain(rpc_url, keeper)
        started = time.perf_counter()
        baseline = await endpoint_latency(rpc_url, workdir, 0)
        grown = await endpoint_latency(rpc_url, workdir, rows)
        print(f"1. endpoint latency, p50 / p99 ms: empty journal vs {rows:,} rows ({time.perf_counter() - started:.0f} s)")
        for name, (p50, p99) in baseline.items():
            big50, big99 = grown[name]
            print(f"   {name:<42} {p50:7.2f} / {p99:7.2f}   {big50:7.2f} / {big99:7.2f}   p50 ratio {big50 / p50:.2f}x")
        hung50, hung_max = await hung_health(workdir)
        print(f"2. /health with a hung RPC: p50 {hung50:.0f} ms, max {hung_max:.0f} ms (503 each time)")
        no_linger = await stream(rpc_url, keyfile, keeper, workdir, stream_events, rate, 0.0)
        lingered = await stream(rpc_url, keyfile, keeper, workdir, stream_events, rate, 2.0)
        print(f"3. {stream_events} events at {rate:g} events/s, push every 1 s:")
        print(f"   no linger (baseline): {no_linger[1]} transactions, {no_linger[0] / no_linger[1]:.1f} events each")
        print(f"   linger 2 s:           {lingered[1]} transactions, {lingered[0] / lingered[1]:.1f} events each")
        print(f"   ratio: {no_linger[1] / lingered[1]:.1f}x fewer transactions")
    finally:
        validator.terminate()
        validator.wait(timeout=30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="confirmed events in the grown journal")
    parser.add_argument("--stream-events", type=int, default=2_000)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s of the stream")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    asyncio.run(main(args.rows, args.stream_events, args.rate))
