"""Benchmark: the merchant gateway on a fresh local validator, with the
baselines measured in the same run.

    scripts/bench-gateway [--reads 20000] [--clients 2] [--connections 16] [--charges 300] [--in-flight 16]

1. Access checks: `GET /v1/access/{wallet}` from `--clients` processes of
   bench/get_client.py (raw keep-alive HTTP/1.1), `--reads` requests, against
   one `aistm7 gateway run` process (SQLite) with its 1 s cache warm.
   Baseline: the same gateway with the cache off (`--cache-ttl 0`: every
   request is a getMultipleAccounts).
2. Charges end to end (validation reads, the database claim, send and
   confirm, the outcome written): `--charges` POST /v1/charges with
   `--in-flight` at once, and one at a time. Baseline: charge_service_fee
   transactions sent directly one at a time (no gateway).
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
from solders.pubkey import Pubkey
from spl.token.instructions import create_associated_token_account, get_associated_token_address

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.revenue import AISTM7, free_port, wait_http  # noqa: E402
from keeper import addresses  # noqa: E402
from keeper.client import Aistm7Client  # noqa: E402
from keeper.deploy import deploy  # noqa: E402
from keeper.gateway.charges import onchain_request_id  # noqa: E402
from keeper.state import TOKEN, Authorities, OracleParams  # noqa: E402
from keeper.token import approve_ix  # noqa: E402


async def setup_chain(rpc_url: str, deployer: Keypair, wallets: list[Keypair]) -> Pubkey:
    """The program with every role but the guardian held by `deployer` (so it
    is the fee collector), and `wallets` holding tokens with an allowance."""
    async with httpx.AsyncClient() as http:
        await http.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop", "params": [str(deployer.pubkey()), 1_000 * 10**9]})
    await asyncio.sleep(1)
    client = Aistm7Client.connect(rpc_url, deployer)
    try:
        roles = Authorities.all_but_guardian(deployer.pubkey(), Keypair().pubkey())
        result = await deploy(client, Keypair(), OracleParams(primary_feed_id=b"\x01" * 32), roles, initial_supply=100_000_000 * TOKEN)
        for wallet in wallets:
            account = get_associated_token_address(wallet.pubkey(), result.mint)
            await client.send(
                [
                    create_associated_token_account(deployer.pubkey(), wallet.pubkey(), result.mint),
                    client.mint_to_ix(deployer.pubkey(), result.mint, account, 10_000 * TOKEN),
                    approve_ix(account, addresses.fee_delegate_pda(client.program_id), wallet.pubkey(), 10_000 * TOKEN),
                ],
                [wallet],
            )
        return result.mint
    finally:
        await client.close()


def start_gateway(rpc_url: str, database: Path, port: int, collector: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [AISTM7, "gateway", "run", "--rpc-url", rpc_url, "--database", str(database), "--port", str(port),
         "--fee-collector-keypair", str(collector), "--wallet-charges-per-min", "1000000", *args],
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=60)


def new_key(database: Path) -> str:
    made = subprocess.run(
        [AISTM7, "gateway", "keys", "create", "--merchant", "bench", "--scope", "admin", "--rate", "1000000",
         "--burst", "1000000", "--database", str(database), "--json"],
        capture_output=True, text=True, check=True,
    )
    return str(json.loads(made.stdout)["api_key"])


def reads(port: int, path: str, key: str, count: int, clients: int, connections: int) -> tuple[float, list[float]]:
    """Requests/s over all client processes started together, and every latency; all must be 200."""
    start_at = time.time() + 2
    share = count // clients
    procs = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "get_client.py"), f"http://127.0.0.1:{port}", path, key, str(share),
             str(connections), str(start_at)],
            stdout=subprocess.PIPE, text=True,
        )
        for _ in range(clients)
    ]
    results = [json.loads(proc.communicate(timeout=900)[0]) for proc in procs]
    for result in results:
        if result["statuses"] != {"200": share}:
            raise RuntimeError(f"not every read answered 200: {result['statuses']}")
    latencies = [latency for result in results for latency in result["latencies"]]
    return share * clients / max(result["seconds"] for result in results), latencies


async def charges(port: int, key: str, wallets: list[Keypair], count: int, in_flight: int, prefix: str) -> float:
    """Charges/s through the gateway with `in_flight` requests at once; all must succeed."""
    limit = asyncio.Semaphore(in_flight)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, headers={"Authorization": f"Bearer {key}"}) as http:

        async def one(n: int) -> None:
            async with limit:
                body = {"wallet": str(wallets[n % len(wallets)].pubkey()), "service": "search", "request_id": f"{prefix}-{n}"}
                answer = await http.post("/v1/charges", json=body)
                if answer.status_code != 201:
                    raise RuntimeError(f"charge {n}: {answer.status_code} {answer.text}")

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return count / (time.perf_counter() - started)


async def direct_charges(rpc_url: str, collector: Keypair, mint: Pubkey, wallets: list[Keypair], count: int) -> float:
    """Charges/s sending charge_service_fee directly, one transaction at a time."""
    client = Aistm7Client.connect(rpc_url, collector)
    try:
        started = time.perf_counter()
        for n in range(count):
            account = get_associated_token_address(wallets[n % len(wallets)].pubkey(), mint)
            ix = client.charge_service_fee_ix(collector.pubkey(), mint, account, "search", onchain_request_id("direct", str(n)))
            await client.send([ix])
        return count / (time.perf_counter() - started)
    finally:
        await client.close()


def p(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="aistm7-bench-gateway-"))
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "aistm7" / "target"))
    validator_bin = Path(os.environ.get("AISTM7_LOCALNET_BIN", target / "debug" / "aistm7-localnet"))
    rpc_port, port = free_port(), free_port()
    rpc_url = f"http://127.0.0.1:{rpc_port}"
    deployer = Keypair()
    collector = workdir / "collector.json"
    collector.write_text(json.dumps(list(bytes(deployer))))
    wallets = [Keypair() for _ in range(args.in_flight)]
    database, log = workdir / "gateway.sqlite3", workdir / "gateway.log"
    validator = subprocess.Popen(
        [str(validator_bin), "--rpc-port", str(rpc_port), "--ledger", str(workdir / "ledger"), "--reset", "--quiet"], stdout=subprocess.DEVNULL
    )
    try:
        await wait_http(rpc_url)
        mint = await setup_chain(rpc_url, deployer, wallets)
        key = new_key(database)
        path = f"/v1/access/{wallets[0].pubkey()}"

        gateway = start_gateway(rpc_url, database, port, collector, log)
        await wait_http(f"http://127.0.0.1:{port}/v1/health")
        reads(port, path, key, 500, 1, 4)  # warm: the cache, the key, the connections
        warm_rate, warm = reads(port, path, key, args.reads, args.clients, args.connections)
        sequential = await charges(port, key, wallets, max(20, args.charges // 10), 1, "one")
        concurrent = await charges(port, key, wallets, args.charges, args.in_flight, "many")
        stop(gateway)

        gateway = start_gateway(rpc_url, database, port, collector, log, "--cache-ttl", "0")
        await wait_http(f"http://127.0.0.1:{port}/v1/health")
        cold_rate, cold = reads(port, path, key, max(1_000, args.reads // 10), args.clients, args.connections)
        stop(gateway)

        direct = await direct_charges(rpc_url, deployer, mint, wallets, max(20, args.charges // 10))
    finally:
        validator.terminate()
        validator.wait(timeout=30)

    print(f"host: {os.cpu_count()} cores; one gateway process (uvicorn, SQLite) and the validator on the same cores;")
    print(f"read client: {args.clients} processes of bench/get_client.py x {args.connections} keep-alive connections")
    print("| measure | baseline (same run) | now | ratio |")
    print("|---|---|---|---|")
    print(
        f"| GET /v1/access/{{wallet}}, requests/s | {cold_rate:,.0f} (cache off: a getMultipleAccounts each) | "
        f"{warm_rate:,.0f} (1 s cache, warm) | {warm_rate / cold_rate:.1f}x |"
    )
    print(
        f"| GET /v1/access/{{wallet}}, latency | p50 {p(cold, 0.5):.1f} ms, p99 {p(cold, 0.99):.1f} ms | "
        f"p50 {p(warm, 0.5):.1f} ms, p99 {p(warm, 0.99):.1f} ms | |"
    )
    print(
        f"| charges/s end to end | {direct:,.1f} (charge_service_fee sent directly, one at a time) | "
        f"{sequential:,.1f} one at a time, {concurrent:,.1f} with {args.in_flight} in flight | "
        f"{sequential / direct:.2f}x, {concurrent / direct:.1f}x |"
    )
    print(f"gateway log: {log}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=20_000, help="access requests with the cache warm")
    parser.add_argument("--clients", type=int, default=2, help="read client processes")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections per read client")
    parser.add_argument("--charges", type=int, default=300, help="charges with --in-flight at once")
    parser.add_argument("--in-flight", type=int, default=16, help="concurrent charges (and wallets charged)")
    asyncio.run(main(parser.parse_args()))
