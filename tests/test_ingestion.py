"""Group commit: many webhooks share one journal transaction, yet each gets
its own answer (recorded, duplicate, conflicting), every acknowledged event
survives a kill -9 of the daemon, and the provider's retries count nothing
twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import httpx
from solders.keypair import Keypair

from keeper.journal import Journal
from keeper.webhook import SIGNATURE_HEADER, sign
from tests.conftest import _free_port, start_keeper, wait_listening

SECRET = b"group-secret"
DEAD_RPC = "http://127.0.0.1:9"


def keeper_file(tmp_path: Path) -> Path:
    path = tmp_path / "keeper.json"
    path.write_text(json.dumps(list(bytes(Keypair()))))
    return path


async def deliver(http: httpx.AsyncClient, ref: str, amount: str = "1.00", source: str = "other") -> httpx.Response:
    body = json.dumps({"ref": ref, "source": source, "amount": amount}).encode()
    return await http.post("/revenue", content=body, headers={SIGNATURE_HEADER: sign(SECRET, body, int(time.time()))})


async def test_each_request_of_a_group_gets_its_own_answer(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    port = _free_port()
    daemon = start_keeper(DEAD_RPC, keeper_file(tmp_path), journal, port, "--push-interval", "86400", secret=SECRET)
    try:
        await wait_listening(f"http://127.0.0.1:{port}")
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as http:
            assert (await deliver(http, "SEEN", "5.00")).status_code == 201
            # Sent together they share groups: the same new reference ten
            # times, a conflicting one, and 300 others.
            answers = await asyncio.gather(
                *(deliver(http, "TWICE") for _ in range(10)),
                deliver(http, "SEEN", "6.00"),
                *(deliver(http, f"G-{n}") for n in range(300)),
            )
        codes = [answer.status_code for answer in answers]
        assert sorted(codes[:10]) == [200] * 9 + [201], "one of the ten records it, the others are duplicates"
        assert (codes[10], answers[10].json()["error"]) == (409, "conflicting_duplicate")
        assert answers[10].json()["stored"] == {"source": "other", "amount_cents": 500}
        assert codes[11:] == [201] * 300, "a conflict in the group fails only its own request"
    finally:
        daemon.terminate()
        daemon.communicate(timeout=30)
    totals = Journal(journal).totals()
    assert (totals["backlog_events"], totals["backlog"]) == (302, 500 + 100 + 300 * 100)


async def test_acknowledged_events_survive_a_kill_and_retries_count_nothing_twice(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite3"
    key = keeper_file(tmp_path)
    port = _free_port()
    daemon = start_keeper(DEAD_RPC, key, journal, port, "--push-interval", "86400", secret=SECRET)
    acknowledged: set[str] = set()
    refs = [f"K-{n}" for n in range(3_000)]
    try:
        await wait_listening(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=httpx.Limits(max_connections=32)) as http:

            async def sender(mine: list[str]) -> None:
                for ref in mine:
                    try:
                        if (await deliver(http, ref)).status_code == 201:
                            acknowledged.add(ref)
                    except httpx.TransportError:
                        return  # the daemon is gone

            async def killer() -> None:
                while len(acknowledged) < 1_000:
                    await asyncio.sleep(0.01)
                os.kill(daemon.pid, signal.SIGKILL)

            await asyncio.gather(killer(), *(sender(refs[n::32]) for n in range(32)))
    finally:
        daemon.kill()
        daemon.communicate(timeout=30)
    stored = Journal(journal)
    held = {ref for (ref,) in stored.db.execute("SELECT ref FROM revenue")}
    stored.close()
    assert 1_000 <= len(acknowledged) < len(refs), "killed mid-stream"
    assert acknowledged <= held, f"acknowledged but lost: {sorted(acknowledged - held)[:5]}"

    # The provider retries everything it has not seen acknowledged (and some it has).
    port = _free_port()
    daemon = start_keeper(DEAD_RPC, key, journal, port, "--push-interval", "86400", secret=SECRET)
    try:
        await wait_listening(f"http://127.0.0.1:{port}")
        codes: dict[str, int] = {}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=httpx.Limits(max_connections=32)) as http:

            async def retry(mine: list[str]) -> None:
                for ref in mine:
                    codes[ref] = (await deliver(http, ref)).status_code

            await asyncio.gather(*(retry(refs[n::32]) for n in range(32)))
        assert set(codes.values()) <= {200, 201}
        assert {ref for ref, code in codes.items() if code == 201} == set(refs) - held
    finally:
        daemon.terminate()
        daemon.communicate(timeout=30)
    totals = Journal(journal).totals()
    assert (totals["backlog_events"], totals["backlog"]) == (len(refs), len(refs) * 100), "every event once"
