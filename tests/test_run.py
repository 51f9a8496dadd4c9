"""`scripts/run` brings the whole system to life: the validator, the deployed
program, the keeper with every job, and the local market (price feeder,
sales simulator, seller), here on a fast schedule and a replayed price path
with a 3% move. Everything is judged from the chain, through `aistm7 audit`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from solders.keypair import Keypair

from keeper.market.guard import PUBLIC_GENESIS
from tests.conftest import ROOT, _free_port, _free_port_pair, aistm7

SALES = 40
MAINNET_GENESIS = next(genesis for genesis, name in PUBLIC_GENESIS.items() if name == "mainnet-beta")
PRICE_PATH = "seconds,token_usd,usd_zar\n0,0.0100,18.50\n30,0.0103,18.50\n"


def audit(rpc_url: str, *args: str) -> Any:
    done = aistm7("audit", *args, "--rpc-url", rpc_url, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_scripts_run_prices_sells_pushes_buys_and_burns(tmp_path: Path) -> None:
    rpc_port, http_port = _free_port_pair(), _free_port()
    rpc_url = f"http://127.0.0.1:{rpc_port}"
    prices = tmp_path / "prices.csv"
    prices.write_text(PRICE_PATH)
    config = tmp_path / "aistm7.toml"
    config.write_text(
        f'[market]\nprice-csv = "{prices}"\nfeed-interval = 1\nsales-per-sec = 4\nsales-max = {SALES}\n'
        "seller-interval = 2\nsummary-interval = 10\n"
    )
    state = tmp_path / "state"
    env = {
        **os.environ,
        "AISTM7_STATE": str(state), "AISTM7_RPC_PORT": str(rpc_port), "AISTM7_HTTP_PORT": str(http_port),
        "AISTM7_GATEWAY_PORT": str(_free_port()),
        "AISTM7_CONFIG": str(config), "AISTM7_REFRESH_INTERVAL": "2", "AISTM7_BUYBACK_INTERVAL": "10",
        "AISTM7_PUSH_INTERVAL": "1", "AISTM7_CLOSE_INTERVAL": "30",
    }
    run = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while True:
            assert run.poll() is None, run.communicate()[0]
            tally_file = state / "market-sales.json"
            tally = json.loads(tally_file.read_text()) if tally_file.exists() else {"events": 0, "cents": 0}
            shown = audit(rpc_url, "show") if (state / "market.ready").exists() else None
            treasury = (shown or {}).get("treasury") or {}
            repriced = audit(rpc_url, "history", "--kind", "RequirementUpdated") if shown else []
            done = (
                tally["events"] == SALES
                and treasury.get("revenue", {}).get("total") == tally["cents"]
                and treasury["metrics"]["tokens_burned"] > 0
                and len(repriced) >= 2
            )
            if done or time.monotonic() > deadline:
                break
            time.sleep(3)
        verified = aistm7("audit", "verify", "--rpc-url", rpc_url)
        quick_start = merchant_quick_start({**env, "AISTM7_RPC_URL": rpc_url})
    finally:
        os.killpg(run.pid, signal.SIGINT)
        output, _ = run.communicate(timeout=60)
    assert done, (tally, treasury, len(repriced), output[-3000:])
    metrics = treasury["metrics"]
    assert metrics["orders_opened"] >= 1 and metrics["tokens_acquired"] == metrics["tokens_burned"] > 0
    first, second = (row["data"]["price"] for row in repriced[:2])
    assert 1.02 < second / first < 1.04, "re-priced on the replayed path's 3% move"
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "summary - price $0.01" in output and "up: RPC" in output
    access, charge, delivered = quick_start
    assert access["has_access"] and access["locked_tokens"] == "2000", access
    assert charge["status"] == "succeeded" and charge["request_id"] == "order-1", charge
    assert delivered["type"] == "charge.succeeded" and delivered["signature"] == charge["signature"], delivered


def merchant_quick_start(env: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """README's merchant quick start, run as written against `scripts/run`:
    the access answer, the charge, and the event its webhook receiver printed."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- merchant-quick-start -->\n```bash\n", 1)[1].split("```", 1)[0]
    shell = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    printed: list[dict[str, Any]] = []
    try:
        assert shell.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(line.get("type") == "charge.succeeded" for line in printed):
            line = shell.stdout.readline()
            assert line, f"the quick start ended: {shell.stderr.read() if shell.stderr else ''}"
            if line.startswith("{"):
                printed.append(json.loads(line))
    finally:
        os.killpg(shell.pid, signal.SIGTERM)
        shell.wait(timeout=30)
    access = next(line for line in printed if "has_access" in line)
    charge = next(line for line in printed if "request_id" in line)
    delivered = next(line for line in printed if line.get("type") == "charge.succeeded")
    return access, charge, delivered


class PublicCluster(BaseHTTPRequestHandler):
    """A JSON-RPC endpoint that says it serves mainnet-beta."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": MAINNET_GENESIS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_the_market_refuses_a_public_cluster_and_a_bad_price_path(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), PublicCluster)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "deployer.json").write_text(json.dumps(list(bytes(Keypair()))))
    try:
        refused = aistm7("market", "run", "--state-dir", str(tmp_path), "--rpc-url", f"http://127.0.0.1:{server.server_port}", "--no-sales")
    finally:
        server.shutdown()
    assert refused.returncode == 2 and "serves mainnet-beta" in refused.stderr, refused.stderr
    bad = tmp_path / "prices.csv"
    for content, reason in (("seconds,price\n0,1\n", "must name seconds"), ("seconds,token_usd,usd_zar\n0,-1,18\n", "positive")):
        bad.write_text(content)
        run = aistm7("market", "run", "--state-dir", str(tmp_path), "--price-csv", str(bad))
        assert run.returncode == 2 and reason in run.stderr, run.stderr
