"""The one piece of HTTP/1.1 the load clients parse: a response's status,
its body skipped by Content-Length (the servers measured answer with it)."""

from __future__ import annotations

import asyncio


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one response off a keep-alive connection; its status code."""
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return int(status_line.split()[1])
