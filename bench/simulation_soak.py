"""Soak: simulations back to back from several clients while the validator
ends a slot every 400 ms, the load the keeper puts on a node when it
simulates every crank. Each simulation loads SPL Token through the program
cache, the lock a simulation and a slot end both need.

    scripts/soak [--seconds 300] [--clients 4] [--baseline-seconds 30]

Prints simulations/s, latency percentiles and stalls for one client (the
baseline) and for --clients clients, measured in the same run on a fresh
local validator, and their ratio. A stall is a call unanswered for 10 s.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

ROOT = Path(__file__).resolve().parent.parent
TOKEN_PROGRAM = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
STALL_SECS = 10.0


@dataclass
class SoakResult:
    seconds: float
    clients: int
    latencies: list[float] = field(default_factory=list)
    stalls: list[str] = field(default_factory=list)
    slots: int = 0

    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": self.seconds,
            "simulations": len(self.latencies),
            "per_second": round(self.per_second(), 1),
            "p50_ms": round(self.percentile(0.50) * 1000, 1),
            "p99_ms": round(self.percentile(0.99) * 1000, 1),
            "max_ms": round(max(self.latencies, default=0.0) * 1000, 1),
            "slots": self.slots,
            "stalls": self.stalls[:3],
        }


def _rpc(http: httpx.Client, url: str, method: str, *params: Any) -> Any:
    reply = http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    body = reply.json()
    if "result" not in body:
        raise RuntimeError(f"{method}: {body}")
    return body["result"]


def _simulation(payer: Keypair, blockhash: str) -> str:
    """A transfer plus an SPL Token call: base64, unsigned checks skipped."""
    pay = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=1_000))
    token = Instruction(TOKEN_PROGRAM, bytes([9]), [AccountMeta(Keypair().pubkey(), False, True)])
    tx = Transaction([payer], Message([pay, token], payer.pubkey()), Hash.from_string(blockhash))
    return base64.b64encode(bytes(tx)).decode()


def soak(url: str, seconds: float, clients: int) -> SoakResult:
    """Simulate back to back from `clients` threads for `seconds`."""
    result = SoakResult(seconds, clients)
    payer = Keypair()
    with httpx.Client(timeout=STALL_SECS) as http:
        try:
            _rpc(http, url, "requestAirdrop", str(payer.pubkey()), 10**10)
            first_slot = int(_rpc(http, url, "getSlot"))
        except (httpx.HTTPError, RuntimeError) as exc:
            result.stalls.append(f"before the soak: {exc!r}"[:200])
            return result
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(timeout=STALL_SECS) as http:
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    blockhash = _rpc(http, url, "getLatestBlockhash")["value"]["blockhash"]
                    _rpc(http, url, "simulateTransaction", _simulation(payer, blockhash), {"encoding": "base64"})
                except (httpx.HTTPError, RuntimeError) as exc:
                    with lock:
                        result.stalls.append(repr(exc)[:200])
                    return
                with lock:
                    result.latencies.append(time.monotonic() - started)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * STALL_SECS)
    with httpx.Client(timeout=STALL_SECS) as http:
        try:
            result.slots = int(_rpc(http, url, "getSlot")) - first_slot
        except (httpx.HTTPError, RuntimeError) as exc:
            result.stalls.append(f"getSlot after the soak: {exc!r}"[:200])
    return result


def _start_validator(binary: str, port: int, ledger: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [binary, "--rpc-port", str(port), "--ledger", ledger, "--reset", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the validator did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0, help="the soak with --clients clients")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--baseline-seconds", type=float, default=30.0, help="the one-client baseline")
    parser.add_argument("--port", type=int, default=18_899)
    args = parser.parse_args()
    binary = os.environ.get("AISTM7_LOCALNET_BIN", str(ROOT / "target" / "debug" / "aistm7-localnet"))
    with tempfile.TemporaryDirectory() as ledger:
        validator = _start_validator(binary, args.port, ledger)
        try:
            url = f"http://127.0.0.1:{args.port}"
            baseline = soak(url, args.baseline_seconds, 1)
            loaded = soak(url, args.seconds, args.clients)
        finally:
            validator.terminate()
            validator.wait(30)
    report = {
        "baseline": baseline.summary(),
        "soak": loaded.summary(),
        "throughput_ratio": round(loaded.per_second() / max(baseline.per_second(), 1e-9), 2),
        "p99_ratio": round(loaded.percentile(0.99) / max(baseline.percentile(0.99), 1e-9), 2),
    }
    print(json.dumps(report, indent=2))
    sys.exit(1 if loaded.stalls or baseline.stalls else 0)


if __name__ == "__main__":
    main()
