"""One process of the gateway benchmark's read client: GET requests over
keep-alive HTTP/1.1 connections (raw asyncio streams, requests built
before the clock starts), each one's latency recorded.

    python bench/get_client.py URL PATH API_KEY REQUESTS CONNECTIONS START_AT

Starts at unix time START_AT and prints one JSON line:
{"requests", "seconds", "statuses", "latencies"} (latencies in seconds)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.http_wire import read_response  # noqa: E402


async def connection(host: str, port: int, request: bytes, count: int, statuses: Counter[int], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
    finally:
        writer.close()


async def main(url: str, path: str, key: str, count: int, connections: int, start_at: float) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    await asyncio.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    share = [count // connections + (1 if n < count % connections else 0) for n in range(connections)]
    await asyncio.gather(*(connection(host, port, request, n, statuses, latencies) for n in share))
    seconds = time.perf_counter() - started
    print(json.dumps({"requests": count, "seconds": seconds, "statuses": {str(k): v for k, v in statuses.items()}, "latencies": latencies}))


if __name__ == "__main__":
    url, path, key, requests, conns, start = sys.argv[1:7]
    asyncio.run(main(url, path, key, int(requests), int(conns), float(start)))
