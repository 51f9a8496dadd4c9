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
