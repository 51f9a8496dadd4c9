"""The keeper's HTTP surface and revenue inputs under hostile input: every
refusal is a JSON 4xx (or a 503 for what the keeper cannot reach) with a
stable code, nothing is half-written, the journal's totals are the sum of
what was accepted, and /health answers within a second with a hung RPC.

The app runs as the daemon serves it, in a thread of its own, against an
RPC that accepts connections and never answers."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import socket
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger
from solders.keypair import Keypair
from typer.testing import CliRunner

from keeper import log
from keeper.cli import app as cli_app
from keeper.client import Aistm7Client
from keeper.daemon import JOURNAL_BUSY_TIMEOUT_SECS, WRITER_BUSY_TIMEOUT_SECS
from keeper.health import HealthPolicy
from keeper.http_api import make_app
from keeper.journal.group_commit import GroupCommit
from keeper.journal import Journal
from keeper.metrics import KeeperMetrics
from keeper.money import InvalidRevenue, parse_amount
from keeper.scheduler import Scheduler
from keeper.webhook import DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, sign
from tests.conftest import _free_port

SECRET = b"whsec-test"
OLD_SECRET = b"whsec-rotated-out"
TRIGGER_TOKEN = "trigger-token"
SOURCES = ("course_sale", "subscription", "other")
ERROR_STATUSES = {400, 401, 404, 405, 409, 413}


@dataclass(frozen=True)
class Served:
    base: str
    journal: Path


@pytest.fixture(scope="module")
def hung_rpc() -> Iterator[str]:
    """A socket that accepts connections (the kernel's backlog) and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture(scope="module")
def served(hung_rpc: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    journal_path = tmp_path_factory.mktemp("webhook") / "journal.sqlite3"
    port = _free_port()
    ready = threading.Event()
    stop: list[asyncio.Event] = []

    async def main() -> None:
        journal = Journal(journal_path, busy_timeout_secs=JOURNAL_BUSY_TIMEOUT_SECS)
        writer = GroupCommit(journal_path, busy_timeout_secs=WRITER_BUSY_TIMEOUT_SECS)
        writer.start()
        client = Aistm7Client.connect(hung_rpc, Keypair())
        app = make_app(journal, writer, KeeperMetrics(), Scheduler(KeeperMetrics()), SECRET, TRIGGER_TOKEN, client, HealthPolicy())
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        stop.append(asyncio.Event())
        ready.set()
        await stop[0].wait()
        await runner.cleanup()
        writer.close()
        journal.close()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield Served(f"http://127.0.0.1:{port}", journal_path)
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(10)


def post(served: Served, body: bytes, header: str | None = "sign", at: int | None = None) -> httpx.Response:
    headers = {}
    if header == "sign":
        headers[SIGNATURE_HEADER] = sign(SECRET, body, int(time.time()) if at is None else at)
    elif header is not None:
        headers[SIGNATURE_HEADER] = header
    return httpx.post(f"{served.base}/revenue", content=body, headers=headers, timeout=10)


def totals(served: Served) -> dict[str, int]:
    journal = Journal(served.journal)
    try:
        return journal.totals()
    finally:
        journal.close()


def event(**fields: object) -> bytes:
    return json.dumps({"ref": "H-1", "source": "other", "amount": "10.00", **fields}).encode()


def test_hostile_bodies_are_refused_with_a_json_code_and_record_nothing(served: Served) -> None:
    before = totals(served)
    deep = b"[" * 30_000 + b"]" * 30_000
    cases = {
        "sNaN": (event(amount="sNaN"), "invalid_revenue"),
        "NaN literal": (b'{"ref": "H-1", "source": "other", "amount": NaN}', "invalid_json"),
        "2^63 cents": (event(amount="92233720368547758.08"), "invalid_revenue"),
        "10^30": (event(amount="1" + "0" * 30), "invalid_revenue"),
        "exponent": (event(amount="1e3"), "invalid_revenue"),
        "underscore": (event(amount="1_000"), "invalid_revenue"),
        "Arabic-Indic digits": (event(amount="١٠٠"), "invalid_revenue"),
        "whitespace": (event(amount=" 10"), "invalid_revenue"),
        "number": (event(amount=10), "invalid_revenue"),
        "lower-case currency": (event(currency="zar"), "invalid_revenue"),
        "empty currency": (event(currency=""), "invalid_revenue"),
        "null currency": (event(currency=None), "invalid_revenue"),
        "newline in ref": (event(ref="A\nINFO forged"), "invalid_revenue"),
        "NUL in ref": (event(ref="A\x00"), "invalid_revenue"),
        "bidi override in ref": (event(ref="A\u202eB"), "invalid_revenue"),
        "reserved ref": (event(ref="chain:1:0"), "invalid_revenue"),
        "future received_at": (event(received_at="2999-01-01T00:00:00+00:00"), "invalid_revenue"),
        "received_at without offset": (event(received_at="2026-01-01T00:00:00"), "invalid_revenue"),
        "unknown source": (event(source="refund"), "invalid_revenue"),
        "30,000 deep": (deep, "too_deep"),
        "deep in a field": (event(meta=[[[[[1]]]]]), "too_deep"),
        "not UTF-8": (b'{"ref": "\xff"}', "invalid_json"),
        "an array": (b"[]", "invalid_json"),
        "empty": (b"", "invalid_json"),
    }
    for name, (body, code) in cases.items():
        response = post(served, body)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == code, (name, response.json())
    assert totals(served) == before


def test_signatures_carry_a_timestamp_inside_a_tolerance_window(served: Served) -> None:
    body = event(ref="SIG-1", amount="1.00")
    now = int(time.time())
    rotated = f"t={now},v1={sign(OLD_SECRET, body, now).split('v1=')[1]},v1={sign(SECRET, body, now).split('v1=')[1]}"
    outcomes = {
        "missing": (post(served, body, header=None), 401, "missing_signature"),
        "no timestamp": (post(served, body, header="v1=" + "0" * 64), 401, "bad_signature"),
        "garbage": (post(served, body, header="t=abc,v1=zz"), 401, "bad_signature"),
        # A minute past the window each way: the server's clock may be a
        # second ahead of `now` by the time it checks.
        "old": (post(served, body, at=now - DEFAULT_TOLERANCE_SECS - 60), 401, "stale_signature"),
        "ahead": (post(served, body, at=now + DEFAULT_TOLERANCE_SECS + 60), 401, "stale_signature"),
        "other secret": (post(served, body, header=sign(OLD_SECRET, body, now)), 401, "bad_signature"),
        "tampered": (post(served, body.replace(b"1.00", b"9.00"), header=sign(SECRET, body, now)), 401, "bad_signature"),
    }
    for name, (response, status, code) in outcomes.items():
        assert (response.status_code, response.json()["error"]) == (status, code), name
    # Body-only signatures of the old scheme are refused too.
    assert post(served, body, header=sign(SECRET, body, now).split("v1=")[1]).status_code == 401
    first = post(served, body, header=rotated.upper().replace("T=", "t=").replace("V1=", "v1="))
    replay = post(served, body, header=rotated)
    assert (first.status_code, replay.status_code, replay.json()["status"]) == (201, 200, "duplicate")
    assert totals(served)["backlog_events"] >= 1


def test_unknown_paths_methods_and_large_bodies_are_json(served: Served) -> None:
    missing = httpx.get(f"{served.base}/nope")
    wrong = httpx.put(f"{served.base}/revenue")
    large = post(served, b"x" * (64 * 1024 + 1))
    chunked = httpx.post(f"{served.base}/revenue", content=iter([b"x" * 70_000]), headers={SIGNATURE_HEADER: "t=1,v1=0"})
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    assert (large.status_code, large.json()["error"]) == (413, "body_too_large")
    assert (chunked.status_code, chunked.json()["error"]) == (413, "body_too_large")
    # Header bytes that are not UTF-8 are a refused signature or token, not a failure.
    host, port = served.base.removeprefix("http://").split(":")
    for header in (f"X-Signature: t={int(time.time())},v1=\xff\xfe".encode("latin-1"), b"Authorization: Bearer \xff"):
        path = b"/revenue" if header.startswith(b"X-") else b"/buy-orders/trigger"
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n" + header + b"\r\nContent-Length: 2\r\n\r\n{}")
            reply = raw.recv(4096)
        assert reply.split(b"\r\n")[0].split(b" ")[1] == b"401" and b'"error"' in reply, reply
    # A request HTTP itself forbids (a control byte in a header) is refused by
    # the HTTP parser before any route: a 400, not a failure.
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(b"POST /revenue HTTP/1.1\r\nHost: x\r\nX-Signature: \x1f\r\nContent-Length: 0\r\n\r\n")
        assert raw.recv(64).split(b"\r\n")[0].split(b" ")[1] == b"400"


def test_health_and_status_answer_with_a_hung_rpc(served: Served) -> None:
    started = time.monotonic()
    health = httpx.get(f"{served.base}/health", timeout=10)
    health_secs = time.monotonic() - started
    started = time.monotonic()
    status = httpx.get(f"{served.base}/status", timeout=10)
    status_secs = time.monotonic() - started
    assert health.status_code == 503 and health_secs < 1.0, health_secs
    assert health.json()["ok"] is False and health.json()["rpc_reachable"] is False
    assert any("did not answer within 0.5 s" in reason for reason in health.json()["reasons"])
    assert (status.status_code, status.json()["error"]) == (503, "rpc_unavailable") and status_secs < 6.0
    assert "journal" in status.json(), "what the keeper knows locally is still shown"


def test_a_journal_locked_by_another_process_is_a_503_to_retry(served: Served) -> None:
    other = sqlite3.connect(served.journal, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # as `journal archive` holds it
    try:
        started = time.monotonic()
        busy = post(served, event(ref="BUSY-1"))
        health = httpx.get(f"{served.base}/health", timeout=10)
        elapsed = time.monotonic() - started
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (busy.status_code, busy.json()["error"], busy.headers["Retry-After"]) == (503, "journal_busy", "1")
    assert health.status_code == 503 and elapsed < 2.0, elapsed
    assert post(served, event(ref="BUSY-1")).status_code == 201, "the retry lands"


bodies = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(
        st.sampled_from(["ref", "source", "amount", "currency", "received_at", "extra"]),
        st.one_of(
            st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40),
            st.sampled_from(SOURCES), st.from_regex(r"[0-9]{1,20}(\.[0-9]{0,3})?", fullmatch=True),
            st.lists(st.integers(), max_size=3),
        ),
    ).map(lambda value: json.dumps(value).encode()),
)
headers = st.one_of(
    st.none(), st.just("sign"), st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, header=headers)
def test_no_webhook_input_gets_a_500_or_a_partial_write(served: Served, body: bytes, header: str | None) -> None:
    before = totals(served)
    response = post(served, body, header=header)
    assert response.status_code in ERROR_STATUSES | {200, 201}, response.text
    after = totals(served)
    if response.status_code == 201:
        cents = parse_amount(json.loads(body)["amount"])
        assert after["total"] == before["total"] + cents and after["backlog_events"] == before["backlog_events"] + 1
    else:
        assert after == before
        if response.status_code >= 400:
            assert isinstance(response.json()["error"], str)


amounts = st.one_of(st.text(max_size=25), st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,3})?", fullmatch=True))
refs = st.one_of(st.text(max_size=20), st.from_regex(r"[A-Z]{1,3}-[0-9]{1,4}", fullmatch=True))


def _journaled(path: Path) -> dict[str, int]:
    if not path.exists():
        return {"total": 0, "backlog_events": 0}
    journal = Journal(path)
    try:
        return journal.totals()
    finally:
        journal.close()


@settings(max_examples=150, deadline=None)
@given(source=st.one_of(st.sampled_from(SOURCES), st.text(max_size=12)), amount=amounts, ref=refs)
def test_the_cli_takes_the_same_grammar_and_exits_2_on_bad_input(
    tmp_path_factory: pytest.TempPathFactory, source: str, amount: str, ref: str
) -> None:
    path = tmp_path_factory.mktemp("cli") / "journal.sqlite3"
    if any(char in ref + amount + source for char in "\x00"):
        return  # argv cannot carry NUL
    result = CliRunner().invoke(cli_app, ["revenue", "add", "--source", source, "--amount", amount, "--ref", ref, "--journal", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    try:
        expected = parse_amount(amount) if source in SOURCES else None
    except InvalidRevenue:
        expected = None
    got = _journaled(path)["total"]
    assert got == (expected if result.exit_code == 0 else 0)


rows = st.lists(
    st.tuples(refs, st.one_of(st.sampled_from(SOURCES), st.text(max_size=8)), amounts, st.sampled_from(["ZAR", "zar", ""])),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(content=st.one_of(rows, st.binary(max_size=200)))
def test_an_import_is_all_or_nothing_and_never_a_traceback(
    tmp_path_factory: pytest.TempPathFactory, content: list[tuple[str, str, str, str]] | bytes
) -> None:
    folder = tmp_path_factory.mktemp("import")
    path, csv_file = folder / "journal.sqlite3", folder / "revenue.csv"
    if isinstance(content, bytes):
        csv_file.write_bytes(content)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["ref", "source", "amount", "currency"])
        writer.writerows(content)
        csv_file.write_text(out.getvalue())
    result = CliRunner().invoke(cli_app, ["revenue", "import", str(csv_file), "--journal", str(path)])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    journaled = _journaled(path)
    if result.exit_code == 2:
        assert journaled["total"] == 0, "a refused file records nothing"
    else:
        assert isinstance(content, list)
        first = {}
        for ref, _, amount, _ in content:
            first.setdefault(ref, parse_amount(amount))
        assert journaled["total"] == sum(first.values())


def test_the_text_log_escapes_what_the_json_log_carries_raw(capsys: pytest.CaptureFixture[str]) -> None:
    forged = "INV-1\n2026-01-01 00:00:00 | INFO | forged\x1b[31m"
    try:
        log.configure(as_json=False)
        logger.bind(ref=forged).info("revenue {} recorded", forged)
        text = capsys.readouterr().err
        log.configure(as_json=True)
        logger.bind(ref=forged).info("revenue {} recorded", forged)
        record = json.loads(capsys.readouterr().err)
    finally:
        logger.remove()
        logger.add(sys.stderr)
    assert text.count("\n") == 1 and "INV-1\\n2026-01-01" in text and "\\x1b[31m" in text
    assert record["record"]["extra"]["ref"] == forged
