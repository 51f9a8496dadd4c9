"""One process of the ingestion benchmark's client: signed revenue webhooks
over keep-alive HTTP/1.1 connections, as light as a client can be (every
request is built and signed before the clock starts; raw asyncio streams),
so the keeper, not the client, is what is measured.

    python bench/load_client.py URL SECRET PREFIX EVENTS CONNECTIONS START_AT

Starts sending at unix time START_AT (so several processes start together)
and prints one JSON line: {"events", "seconds", "statuses"}."""

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
from keeper.webhook import SIGNATURE_HEADER, sign  # noqa: E402

SOURCES = ("course_sale", "subscription", "other")


def requests(host: str, secret: bytes, prefix: str, count: int) -> list[bytes]:
    now = int(time.time())
    built = []
    for n in range(count):
        body = json.dumps({"ref": f"{prefix}-{n}", "source": SOURCES[n % 3], "amount": f"{1 + n % 900}.{n % 100:02d}"}).encode()
        head = (
            f"POST /revenue HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"{SIGNATURE_HEADER}: {sign(secret, body, now)}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        built.append(head.encode() + body)
    return built


async def connection(host: str, port: int, mine: list[bytes], statuses: Counter[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in mine:
            writer.write(request)
            statuses[await read_response(reader)] += 1
    finally:
        writer.close()


async def main(url: str, secret: bytes, prefix: str, count: int, connections: int, start_at: float) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    built = requests(host, secret, prefix, count)
    statuses: Counter[int] = Counter()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    await asyncio.gather(*(connection(host, port, built[i::connections], statuses) for i in range(connections)))
    seconds = time.perf_counter() - started
    print(json.dumps({"events": count, "seconds": seconds, "statuses": {str(k): v for k, v in statuses.items()}}))


if __name__ == "__main__":
    url, secret, prefix, events, conns, start = sys.argv[1:7]
    asyncio.run(main(url, secret.encode(), prefix, int(events), int(conns), float(start)))
