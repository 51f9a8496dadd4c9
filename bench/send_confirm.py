"""Send + confirm latency at each commitment: the time from sendTransaction to
the signatureNotification at processed, confirmed and finalized, the way a
wallet waits (web3.js' sendAndConfirmTransaction subscribes the same way).

    scripts/bench-confirm [--count 40] [--interval 0.25] [--port 18899]

One transfer is sent every --interval seconds for each commitment, each with a
signature subscription opened just before it is sent, on a fresh local
validator. Prints median and p99 per commitment, and each one's ratio to
processed (the baseline, measured in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import tempfile
import time
from typing import Any

import httpx
import websockets
from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from bench.simulation_soak import ROOT, _rpc, _start_validator

COMMITMENTS = ("processed", "confirmed", "finalized")


def _transfer(payer: Keypair, lamports: int, blockhash: str) -> str:
    ix = transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=lamports))
    return base64.b64encode(bytes(Transaction([payer], Message([ix], payer.pubkey()), Hash.from_string(blockhash)))).decode()


async def measure(url: str, ws_url: str, commitment: str, count: int, interval: float) -> list[float]:
    """Latencies (seconds) of `count` transfers confirmed at `commitment`."""
    payer = Keypair()
    async with httpx.AsyncClient(timeout=30) as http:
        signature = (await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "requestAirdrop",
                                                "params": [str(payer.pubkey()), 10**10]})).json()["result"]
        while True:
            statuses = (await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getSignatureStatuses",
                                                   "params": [[signature]]})).json()["result"]["value"]
            if statuses[0] and statuses[0]["confirmationStatus"] in ("confirmed", "finalized"):
                break
            await asyncio.sleep(0.1)
        sent: dict[int, float] = {}
        subscription_of: dict[int, int] = {}
        latencies: list[float] = []
        async with websockets.connect(ws_url, max_size=None) as ws:

            async def listen() -> None:
                while len(latencies) < count:
                    message: dict[str, Any] = json.loads(await ws.recv())
                    if "id" in message:
                        subscription_of[int(message["result"])] = int(message["id"])
                    elif message.get("method") == "signatureNotification":
                        request = subscription_of[int(message["params"]["subscription"])]
                        latencies.append(time.monotonic() - sent[request])

            listener = asyncio.create_task(listen())
            for index in range(count):
                blockhash = (await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "getLatestBlockhash",
                                                        "params": [{"commitment": "confirmed"}]})).json()["result"]
                raw = _transfer(payer, 1_000_000 + index, blockhash["value"]["blockhash"])
                tx_signature = str(Transaction.from_bytes(base64.b64decode(raw)).signatures[0])
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": index, "method": "signatureSubscribe",
                                          "params": [tx_signature, {"commitment": commitment}]}))
                sent[index] = time.monotonic()
                reply = (await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
                                                    "params": [raw, {"encoding": "base64",
                                                                     "preflightCommitment": "processed"}]})).json()
                if "result" not in reply:
                    raise RuntimeError(f"sendTransaction: {reply}")
                await asyncio.sleep(interval)
            await asyncio.wait_for(listener, timeout=120)
    return latencies


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=40, help="transfers per commitment")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between sends")
    parser.add_argument("--port", type=int, default=18_899, help="RPC port (pubsub on the next one)")
    args = parser.parse_args()
    binary = os.environ.get("AISTM7_LOCALNET_BIN", str(ROOT / "target" / "debug" / "aistm7-localnet"))
    port = args.port
    with tempfile.TemporaryDirectory() as ledger:
        validator = _start_validator(binary, port, ledger)
        try:
            url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port + 1}"
            with httpx.Client(timeout=10) as http:
                _rpc(http, url, "getHealth")
            results = {c: _summary(asyncio.run(measure(url, ws_url, c, args.count, args.interval))) for c in COMMITMENTS}
        finally:
            validator.terminate()
            validator.wait(30)
    baseline = results["processed"]
    for summary in results.values():
        summary["median_ratio"] = round(summary["median_ms"] / max(baseline["median_ms"], 1e-9), 1)
        summary["p99_ratio"] = round(summary["p99_ms"] / max(baseline["p99_ms"], 1e-9), 1)
    print(json.dumps({"slot_ms": 400, "send_confirm": results}, indent=2))


if __name__ == "__main__":
    main()
