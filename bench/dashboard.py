"""Benchmark: the dashboard in Debian's chromium against `scripts/run`, with
the baselines measured in the same run.

    scripts/bench-dashboard [--loads 10] [--events 20]

1. Overview load: from submitting the sign-in form to the overview drawn
   (cards, chart and the keeper's jobs), `--loads` times in a fresh browser
   context each. Baseline: the same API calls the page makes (/v1/me, the
   two event histories, /v1/requirement, /v1/keeper), from Python, in the
   same order and concurrency.
2. Stream latency: from the gateway recording a `revenue.batch_committed`
   event (its `created_ms`) to the page's stream handler seeing it, over
   `--events` events. Baseline: a Python WebSocket client on the same stream
   at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import websockets
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.revenue import free_port  # noqa: E402

DASHBOARD = re.compile(r"dashboard: (http://\S+/) \(sign in with the admin key (agw_\S+),")
LATEST = "9223372036854775807"
TIMED_STREAM = """
window.latencies = [];
const onmessage = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
Object.defineProperty(WebSocket.prototype, "onmessage", {
  set(handler) {
    onmessage.set.call(this, (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "revenue.batch_committed") window.latencies.push(Date.now() - event.created_ms);
      return handler(message);
    });
  },
  get() { return onmessage.get.call(this); },
});
"""


def start_system(state: Path) -> tuple[subprocess.Popen[str], str, str]:
    env = {
        **os.environ, "AISTM7_STATE": str(state), "AISTM7_RPC_PORT": str(free_port()), "AISTM7_HTTP_PORT": str(free_port()),
        "AISTM7_GATEWAY_PORT": str(free_port()), "AISTM7_PUSH_INTERVAL": "1",
    }
    run = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(iter(run.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = next((m for m in map(DASHBOARD.search, list(output)) if m), None)
        if found is not None:
            return run, found.group(1), found.group(2)
        if run.poll() is not None:
            break
        time.sleep(0.5)
    raise SystemExit("scripts/run did not print the dashboard's address:\n" + "".join(output)[-3000:])


async def api_overview(url: str, key: str) -> float:
    """Seconds for the overview's API calls, made as the page makes them."""
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        started = time.perf_counter()
        (await http.get("/v1/me")).raise_for_status()
        await asyncio.gather(
            http.get("/v1/events", params={"types": "requirement.updated", "ending_before": LATEST, "limit": 100}),
            http.get("/v1/events", params={"types": "alert.price_moved", "ending_before": LATEST, "limit": 10}),
        )
        await http.get("/v1/requirement")
        await http.get("/v1/keeper")
        return time.perf_counter() - started


async def python_stream(url: str, key: str, count: int, seen: list[float]) -> None:
    """Latency (ms) of each revenue.batch_committed event on a Python WebSocket client."""
    ws = url.replace("http://", "ws://") + f"v1/stream?api_key={key}&types=revenue.batch_committed"
    async with websockets.connect(ws) as socket:
        while len(seen) < count:
            event = json.loads(await socket.recv())
            if "created_ms" in event:
                seen.append(time.time() * 1000 - event["created_ms"])


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"median {statistics.median(ordered):.1f} ms, p90 {ordered[int(len(ordered) * 0.9) - 1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    run, url, key = start_system(state)
    try:
        baseline = [asyncio.run(api_overview(url, key)) * 1000 for _ in range(args.loads)]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-dev-shm-usage"])
            loads = []
            for _ in range(args.loads):
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                page = context.new_page()
                page.goto(url)
                page.fill("#api-key", key)
                started = time.perf_counter()
                page.click("#sign-in-form button[type=submit]")
                page.wait_for_selector("#keeper table")
                page.wait_for_selector("#requirement-value")
                loads.append((time.perf_counter() - started) * 1000)
                context.close()

            # The page's own stream, its message handler wrapped to time each event's arrival.
            context = browser.new_context()
            context.add_init_script(TIMED_STREAM)
            page = context.new_page()
            page.goto(url)
            page.fill("#api-key", key)
            page.click("#sign-in-form button[type=submit]")
            page.wait_for_selector("#live.on")
            python: list[float] = []
            thread = threading.Thread(target=lambda: asyncio.run(python_stream(url, key, args.events, python)))
            thread.start()
            page.wait_for_function("n => window.latencies.length >= n", arg=args.events, timeout=args.events * 10_000)
            thread.join(timeout=args.events * 10)
            browser_latency = page.evaluate("window.latencies")[: args.events]
            browser.close()
    finally:
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=60)
    print(f"overview load ({args.loads}x): browser {ms(loads)}; API calls alone {ms(baseline)}; "
          f"ratio {statistics.median(loads) / statistics.median(baseline):.2f}")
    print(f"stream latency ({args.events} batches): browser {ms(browser_latency)}; Python client {ms(python)}; "
          f"ratio {statistics.median(browser_latency) / max(statistics.median(python), 0.001):.2f}")


if __name__ == "__main__":
    main()
