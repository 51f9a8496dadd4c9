"""The merchant gateway against a live validator, on SQLite and on
PostgreSQL: keys and scopes, refusals that write nothing, reads from chain,
charges at most once per request id (two processes, a crash mid-charge)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest
import websockets
from aiohttp import web
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.instructions import create_associated_token_account, get_associated_token_address

from keeper import addresses
from keeper import revenue_tree as tree
from keeper.audit.history import HistoryEvent
from keeper.client import Aistm7Client
from keeper.gateway.errors import ApiError
from keeper.gateway.events import Translator, moved_bps
from keeper.gateway.webhooks import check_url
from keeper.revenue_proof import EventProof, document
from keeper.state import TOKEN, RequirementOverride
from keeper.token import approve_ix
from keeper.webhook import SIGNATURE_HEADER, verify
from tests.conftest import (
    INITIAL_SUPPLY,
    ROOT,
    SOL,
    Roles,
    _free_port,
    _fund,
    aistm7,
    airdrop,
    balance,
    batch_root,
    deploy_with_treasury,
    launch_validator,
    postgres_database,
)

LOGS: dict[int, Path] = {}
SEARCH = TOKEN // 10
REQUIRED = 100 * TOKEN


@dataclass(frozen=True)
class GatewayChain:
    rpc_url: str
    roles: Roles
    deployer: Keypair
    mint: Pubkey
    collector_file: Path


@pytest.fixture(scope="module")
def chain(xprocess, tmp_path_factory) -> Iterator[GatewayChain]:  # type: ignore[no-untyped-def]
    """A chain of the gateway's own: config, fee schedule, treasury, three
    revenue batches, an access override of 100 tokens."""
    rpc_url = launch_validator(xprocess, "localnet-gateway", tmp_path_factory.mktemp("gateway-ledger"))
    roles = Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())
    deployer = Keypair()
    for key in (deployer, roles.admin, roles.keeper, roles.fee_collector):
        _fund(rpc_url, key, 10 * SOL)

    async def setup() -> Pubkey:
        client = Aistm7Client.connect(rpc_url, deployer)
        try:
            await deploy_with_treasury(client, roles, INITIAL_SUPPLY)
            for seq, cents in ((1, 150_000), (2, 9_900), (3, 1)):
                ix = client.report_revenue_ix(roles.keeper.pubkey(), seq, batch_root(("course_sale", cents), ("other", 100)))
                await client.send([ix], [roles.keeper])
            now = await client.cluster_time()
            override = RequirementOverride(REQUIRED, now + 86_400)
            await client.send([client.set_requirement_override_ix(roles.admin.pubkey(), override)], [roles.admin])
            config = await client.fetch_config()
            assert config is not None
            return config.data.mint
        finally:
            await client.close()

    mint = asyncio.run(setup())
    collector_file = tmp_path_factory.mktemp("gateway-keys") / "collector.json"
    collector_file.write_text(json.dumps(list(bytes(roles.fee_collector))))
    yield GatewayChain(rpc_url, roles, deployer, mint, collector_file)
    xprocess.getinfo("localnet-gateway").terminate()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("gateway-db") / "gateway.sqlite3")
    return postgres_database(request.getfixturevalue("postgres_server"))


def start_gateway(chain: GatewayChain, database: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`aistm7 gateway run` in the background, its log in a file `stop` returns."""
    port = _free_port()
    log = (Path(tempfile.mkdtemp(prefix="gateway-")) / "gateway.log").open("w")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "aistm7"), "gateway", "run", "--rpc-url", chain.rpc_url, "--database", database,
            "--port", str(port), "--fee-collector-keypair", str(chain.collector_file), *args,
        ],
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    LOGS[process.pid] = Path(log.name)
    log.close()
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, process)
    return process, base


def wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise AssertionError(f"the gateway exited: {output(process)}")
        try:
            httpx.get(f"{base}/v1/health", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {base}")


def output(process: subprocess.Popen[str]) -> str:
    found = LOGS.get(process.pid)
    if found is not None:
        return found.read_text()
    return process.stdout.read() if process.stdout else ""


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then its whole log; it must have stopped cleanly."""
    process.terminate()
    process.wait(timeout=30)
    shown = output(process)
    assert process.returncode == 0, shown
    return shown


@pytest.fixture(scope="module")
def gateway(chain: GatewayChain, database: str) -> Iterator[str]:
    process, base = start_gateway(
        chain, database, "--charge-lease", "2", "--key-cache", "0.2", "--wallet-charges-per-min", "2",
        "--allow-private-webhooks", "--webhook-retry-base", "0.2", "--webhook-retry-max", "1",
    )
    yield base
    log = stop(process)
    assert "gateway stopped" in log


def new_key(database: str, merchant: str, *scopes: str, rate: int = 1000) -> tuple[str, str]:
    """(key id, token) of a new key."""
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    made = aistm7("gateway", "keys", "create", "--merchant", merchant, *args, "--rate", str(rate), "--burst", str(rate),
                  "--database", database, "--json")
    assert made.returncode == 0, made.stderr
    shown = json.loads(made.stdout)
    return shown["key_id"], shown["api_key"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def payer_wallet(chain: GatewayChain, tokens: int = 10 * TOKEN, allowance: int = 10 * TOKEN) -> tuple[Keypair, Pubkey]:
    """A new wallet with its associated token account holding `tokens` and
    an allowance of `allowance` to the fee delegate."""
    wallet = Keypair()
    client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
    try:
        account = get_associated_token_address(wallet.pubkey(), chain.mint)
        ixs = [
            create_associated_token_account(chain.deployer.pubkey(), wallet.pubkey(), chain.mint),
            client.mint_to_ix(chain.roles.admin.pubkey(), chain.mint, account, tokens),
        ]
        signers = [chain.roles.admin]
        if allowance:
            ixs.append(approve_ix(account, addresses.fee_delegate_pda(), wallet.pubkey(), allowance))
            signers.append(wallet)
        await client.send(ixs, signers)
    finally:
        await client.close()
    return wallet, account


async def token_balance(chain: GatewayChain, account: Pubkey) -> int:
    client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
    try:
        return await balance(client, account)
    finally:
        await client.close()


def code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_bad_input_gets_a_4xx_with_a_code_and_writes_nothing(chain: GatewayChain, database: str, gateway: str) -> None:
    _, reader = new_key(database, "shop", "read")
    revoked_id, revoked = new_key(database, "shop", "read", "charge")
    _, charger = new_key(database, "shop", "charge")
    wallet, account = await payer_wallet(chain)
    _, someone_elses = await payer_wallet(chain)
    good = {"wallet": str(wallet.pubkey()), "service": "search", "request_id": "order-1"}
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        assert (await http.get("/v1/requirement", headers=auth(revoked))).status_code == 200
        assert aistm7("gateway", "keys", "revoke", revoked_id, "--database", database).returncode == 0
        assert aistm7("gateway", "keys", "revoke", revoked_id, "--database", database).returncode == 1
        time.sleep(0.5)  # past --key-cache
        cases = {
            "no key": (http.get("/v1/requirement"), 401, "missing_api_key"),
            "not a bearer": (http.get("/v1/requirement", headers={"Authorization": "Basic abc"}), 401, "invalid_api_key"),
            "garbage key": (http.get("/v1/requirement", headers=auth("agw_nothing")), 401, "invalid_api_key"),
            "forged secret": (http.get("/v1/requirement", headers=auth(reader[:-4] + "AAAA")), 401, "invalid_api_key"),
            "revoked key": (http.get("/v1/requirement", headers=auth(revoked)), 401, "api_key_revoked"),
            "read key charges": (http.post("/v1/charges", json=good, headers=auth(reader)), 403, "insufficient_scope"),
            "charge key reads": (http.get("/v1/fees", headers=auth(charger)), 403, "insufficient_scope"),
            "bad wallet": (http.get("/v1/access/not-a-wallet", headers=auth(reader)), 400, "invalid_wallet"),
            "long wallet": (http.get("/v1/access/" + "1" * 300, headers=auth(reader)), 400, "invalid_wallet"),
            "charge bad wallet": (http.post("/v1/charges", json={**good, "wallet": "0OIl"}, headers=auth(charger)), 400, "invalid_wallet"),
            "unknown service": (http.post("/v1/charges", json={**good, "service": "massage"}, headers=auth(charger)), 400, "unknown_service"),
            "long service": (http.post("/v1/charges", json={**good, "service": "s" * 40}, headers=auth(charger)), 400, "unknown_service"),
            "bad request id": (http.post("/v1/charges", json={**good, "request_id": "a b"}, headers=auth(charger)), 400, "invalid_request_id"),
            "missing field": (http.post("/v1/charges", json={"wallet": good["wallet"]}, headers=auth(charger)), 400, "invalid_request"),
            "extra field": (http.post("/v1/charges", json={**good, "amount": 5}, headers=auth(charger)), 400, "invalid_request"),
            "not json": (http.post("/v1/charges", content=b"{nope", headers={**auth(charger), "Content-Type": "application/json"}), 400, "invalid_json"),
            "oversized": (http.post("/v1/charges", json={**good, "request_id": "x" * 5000}, headers=auth(charger)), 413, "body_too_large"),
            "other's account": (
                http.post("/v1/charges", json={**good, "token_account": str(get_associated_token_address(Keypair().pubkey(), chain.mint))}, headers=auth(charger)),
                402, "no_token_account",
            ),
            "someone else's account": (
                http.post("/v1/charges", json={**good, "token_account": str(someone_elses)}, headers=auth(charger)), 400, "wrong_token_account",
            ),
            "bad page": (http.get("/v1/buy-orders?limit=1000", headers=auth(reader)), 400, "invalid_request"),
            "no route": (http.get("/v1/nothing", headers=auth(reader)), 404, "not_found"),
            "wrong method": (http.delete("/v1/fees", headers=auth(reader)), 405, "method_not_allowed"),
            "no charge": (http.get("/v1/charges/order-1", headers=auth(charger)), 404, "charge_not_found"),
        }
        for name, (pending, status, expected) in cases.items():
            response = await pending
            assert code(response) == (status, expected), (name, response.text)

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"wallet": "' + str(wallet.pubkey()).encode() + b'", "request_id": "'
            yield b"y" * 5000
            yield b'", "service": "search"}'

        streamed = await http.post("/v1/charges", content=chunks(), headers={**auth(charger), "Content-Type": "application/json"})
        assert code(streamed) == (413, "body_too_large")
        listed = await http.get("/v1/charges", headers=auth(charger))
    assert listed.status_code == 200 and listed.json()["data"] == []
    assert await token_balance(chain, account) == 10 * TOKEN


async def test_keys_are_listed_without_secrets_and_rate_limited(database: str, gateway: str) -> None:
    key_id, token = new_key(database, "limited", "read", rate=1)
    listed = aistm7("gateway", "keys", "list", "--database", database, "--json")
    assert listed.returncode == 0
    (row,) = [key for key in json.loads(listed.stdout) if key["key_id"] == key_id]
    assert (row["merchant"], row["scopes"], row["rate_per_sec"], row["revoked_at"]) == ("limited", ["read"], 1, None)
    assert token.split("_")[-1] not in listed.stdout
    refused = aistm7("gateway", "keys", "create", "--merchant", "Bad Name", "--database", database)
    assert refused.returncode == 2 and "merchant" in refused.stderr
    refused = aistm7("gateway", "keys", "create", "--merchant", "ok", "--scope", "root", "--database", database)
    assert refused.returncode == 2 and "scopes" in refused.stderr
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        first = await http.get("/v1/fees", headers=auth(token))
        second = await http.get("/v1/fees", headers=auth(token))
    assert first.status_code == 200
    assert code(second) == (429, "rate_limited")
    assert int(second.headers["Retry-After"]) >= 1


async def test_reads_answer_from_chain_with_the_slot(chain: GatewayChain, database: str, gateway: str) -> None:
    _, reader = new_key(database, "shop", "read")
    wallet, account = await payer_wallet(chain, tokens=200 * TOKEN, allowance=0)
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=auth(reader)) as http:
        before = (await http.get(f"/v1/access/{wallet.pubkey()}")).json()
        client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
        try:
            await airdrop(client, wallet.pubkey(), SOL)  # the lock account's rent
            await client.send([client.lock_tokens_ix(wallet.pubkey(), chain.mint, account, REQUIRED)], [wallet])
            # Other tests report batches on this chain too: the program's own account is the reference.
            treasury = await client.fetch_buyback()
            assert treasury is not None
        finally:
            await client.close()
        time.sleep(1.2)  # past --cache-ttl
        after = (await http.get(f"/v1/access/{wallet.pubkey()}")).json()
        requirement = (await http.get("/v1/requirement")).json()
        fees = (await http.get("/v1/fees")).json()
        first = (await http.get("/v1/revenue/summary?limit=2")).json()
        rest = (await http.get(f"/v1/revenue/summary?limit=100&starting_after={first['batches']['next_cursor']}")).json()
        orders = (await http.get("/v1/buy-orders")).json()
        health = await http.get("/v1/health")
    assert (before["has_access"], before["locked_units"], before["required_units"]) == (False, 0, REQUIRED)
    assert (after["has_access"], after["locked_units"], after["locked_tokens"]) == (True, REQUIRED, "100")
    assert after["slot"] > before["slot"] > 0
    assert after["requirement"]["set_by"] == "override" == requirement["set_by"]
    assert requirement["override"]["units"] == REQUIRED
    assert {fee["name"]: fee["cost_units"] for fee in fees["data"]} == {
        "search": SEARCH, "goal": TOKEN, "analysis": TOKEN // 2, "notification": TOKEN // 20,
    }
    assert all(fee["payable_now"] for fee in fees["data"])
    last = treasury.data.last_batch_seq
    assert first["revenue_cents"] == vars(treasury.data.revenue) and last >= 3
    assert [b["batch_seq"] for b in first["batches"]["data"]] == [last, last - 1] and first["batches"]["has_more"]
    assert [b["batch_seq"] for b in rest["batches"]["data"]] == list(range(last - 2, 0, -1)) and not rest["batches"]["has_more"]
    assert rest["batches"]["data"][-1]["totals_cents"] == {"course_sale": 150_000, "subscription": 0, "other": 100, "total": 150_100}
    assert orders == {"data": [], "has_more": False, "next_cursor": None}
    assert health.status_code == 200 and health.json()["ok"] and health.json()["charges"] == "enabled"


async def test_the_openapi_document_covers_every_endpoint(gateway: str) -> None:
    document = httpx.get(f"{gateway}/v1/openapi.json", timeout=30).json()
    assert document["openapi"].startswith("3.1")
    assert set(document["paths"]) >= {
        "/v1/access/{wallet}", "/v1/requirement", "/v1/fees", "/v1/buy-orders", "/v1/revenue/summary",
        "/v1/charges", "/v1/charges/{request_id}", "/v1/health",
    }
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "402" in document["paths"]["/v1/charges"]["post"]["responses"]


async def test_a_charge_is_sent_once_per_request_id(chain: GatewayChain, database: str, gateway: str, tmp_path: Path) -> None:
    shop = f"shop-{os.urandom(4).hex()}"  # request ids are per merchant, on a chain both databases share
    _, charger = new_key(database, shop, "charge")
    _, other_merchant = new_key(database, f"other-{shop}", "charge")
    wallet, account = await payer_wallet(chain)
    poor, poor_account = await payer_wallet(chain, allowance=SEARCH - 1)
    body = {"wallet": str(wallet.pubkey()), "service": "search", "request_id": "order-1"}
    async with httpx.AsyncClient(base_url=gateway, timeout=60) as http:
        first = await http.post("/v1/charges", json=body, headers=auth(charger))
        retry = await http.post("/v1/charges", json=body, headers=auth(charger))
        reused = await http.post("/v1/charges", json={**body, "service": "goal"}, headers=auth(charger))
        fetched = await http.get("/v1/charges/order-1", headers=auth(charger))
        elsewhere = await http.post("/v1/charges", json=body, headers=auth(other_merchant))
        short = await http.post("/v1/charges", json={**body, "wallet": str(poor.pubkey()), "request_id": "order-2"}, headers=auth(charger))
        limited = await http.post("/v1/charges", json={**body, "request_id": "order-3"}, headers=auth(charger))
        listed = (await http.get("/v1/charges?limit=1", headers=auth(charger))).json()
    charge = first.json()
    assert first.status_code == 201 and charge["status"] == "succeeded" and charge["amount_units"] == SEARCH
    assert charge["signature"] and charge["slot"] > 0 and charge["error"] is None, charge
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true" and retry.json() == charge
    assert code(reused) == (409, "request_id_reused")
    assert fetched.json() == charge
    assert elsewhere.status_code == 201 and elsewhere.json()["signature"] != charge["signature"]
    assert code(short) == (402, "allowance_too_small")
    assert code(limited) == (429, "wallet_rate_limited")  # the wallet's third charge this minute over both merchants
    assert await token_balance(chain, account) == 10 * TOKEN - 2 * SEARCH
    assert await token_balance(chain, poor_account) == 10 * TOKEN
    assert [c["request_id"] for c in listed["data"]] == ["order-1"] and not listed["has_more"]

    # A gateway whose database lost the charge finds its receipt on-chain: no second charge.
    blank = str(tmp_path / "blank.sqlite3")
    _, fresh = new_key(blank, shop, "charge")
    amnesiac, base = start_gateway(chain, blank)
    try:
        again = httpx.post(f"{base}/v1/charges", json=body, headers=auth(fresh), timeout=60)
    finally:
        stop(amnesiac)
    assert again.status_code == 201 and again.json()["status"] == "succeeded", again.text
    assert again.json()["amount_units"] == SEARCH and again.json()["signature"] is None
    assert await token_balance(chain, account) == 10 * TOKEN - 2 * SEARCH


async def settle(http: httpx.AsyncClient, url: str, body: dict[str, Any], token: str) -> httpx.Response:
    """POST until the charge has an outcome (202 and 409 charge_in_progress are retried)."""
    for _ in range(200):
        response = await http.post(url, json=body, headers=auth(token))
        in_progress = response.status_code == 409 and code(response)[1] == "charge_in_progress"
        if response.status_code != 202 and not in_progress:
            return response
        await asyncio.sleep(0.2)
    raise TimeoutError("the charge never settled")


async def test_two_gateways_on_one_postgresql_charge_once(chain: GatewayChain, postgres_server: str) -> None:
    shared = postgres_database(postgres_server)
    one, base_one = start_gateway(chain, shared, "--charge-lease", "2")
    two, base_two = start_gateway(chain, shared, "--charge-lease", "2")
    try:
        _, token = new_key(shared, "shop", "charge")
        _, reader = new_key(shared, "shop", "read")
        wallet, account = await payer_wallet(chain)
        body = {"wallet": str(wallet.pubkey()), "service": "search", "request_id": "twice"}
        async with httpx.AsyncClient(timeout=60) as http:
            first = await asyncio.gather(*(
                http.post(f"{base}/v1/charges", json=body, headers=auth(token)) for base in [base_one, base_two] * 5
            ))
            settled = [await settle(http, f"{base}/v1/charges", body, token) for base in (base_one, base_two)]
            charged = settled[0].json()["signature"]

            async def recorded() -> list[dict[str, Any]]:
                found = await http.get(f"{base_two}/v1/events?types=charge.succeeded&limit=100", headers=auth(reader))
                return [event for event in found.json()["data"] if event["signature"] == charged]

            await until(lambda: recorded(), "the charge's event")  # one process leads and indexes
            events = await recorded()
    finally:
        stop(one)
        stop(two)
    statuses = sorted(r.status_code for r in first)
    assert statuses.count(201) == 1, [r.text for r in first]
    assert set(statuses) <= {201, 200, 409}
    signatures = {r.json()["signature"] for r in [*first, *settled] if r.status_code in (200, 201)}
    assert len(signatures) == 1
    assert await token_balance(chain, account) == 10 * TOKEN - SEARCH
    assert len(events) == 1 and events[0]["data"]["event"] == "FeePaid"


CRASH_AFTER_SEND = """
import asyncio, os, signal, sys
from pathlib import Path
from keeper.gateway import server
settings = server.Settings(sys.argv[1], sys.argv[2], "127.0.0.1", int(sys.argv[3]), Path(sys.argv[4]), 1.0, 0.2, 2.0, 60)
asyncio.run(server.serve(settings, after_send=lambda: os.kill(os.getpid(), signal.SIGKILL)))
"""


async def test_a_gateway_killed_after_sending_charges_nothing_twice(chain: GatewayChain, postgres_server: str) -> None:
    shared = postgres_database(postgres_server)
    port = _free_port()
    doomed = subprocess.Popen(
        [sys.executable, "-c", CRASH_AFTER_SEND, chain.rpc_url, shared, str(port), str(chain.collector_file)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    wait_ready(f"http://127.0.0.1:{port}", doomed)
    survivor, base = start_gateway(chain, shared, "--charge-lease", "2")
    try:
        _, token = new_key(shared, "shop", "charge")
        wallet, account = await payer_wallet(chain)
        body = {"wallet": str(wallet.pubkey()), "service": "goal", "request_id": "crash-1"}
        async with httpx.AsyncClient(timeout=60) as http:
            with pytest.raises(httpx.TransportError):
                await http.post(f"http://127.0.0.1:{port}/v1/charges", json=body, headers=auth(token))
            assert doomed.wait(timeout=30) == -9
            landed = await token_balance(chain, account)
            retried = await http.post(f"{base}/v1/charges", json=body, headers=auth(token))
            if retried.status_code == 409:  # the dead process's lease had not run out yet
                await asyncio.sleep(2.5)
                retried = await http.post(f"{base}/v1/charges", json=body, headers=auth(token))
    finally:
        log = stop(survivor)
    assert landed == 10 * TOKEN - TOKEN, "killed before the charge landed"
    assert retried.status_code == 200 and retried.json()["status"] == "succeeded", retried.text
    assert retried.json()["amount_units"] == TOKEN and retried.json()["signature"]
    assert "taking over charge crash-1" in log
    assert await token_balance(chain, account) == 10 * TOKEN - TOKEN


@dataclass
class Receiver:
    """A merchant's webhook endpoint on this machine that can be down."""

    url: str
    down: bool
    received: list[tuple[dict[str, Any], str]]
    raw: list[tuple[bytes, str]] = field(default_factory=list)
    refused: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    port = _free_port()
    found = Receiver(f"http://127.0.0.1:{port}/hook", True, [])

    async def hook(request: web.Request) -> web.Response:
        if found.down:
            found.refused += 1
            return web.Response(status=500, text="down")
        raw = await request.read()
        found.received.append((json.loads(raw), request.headers[SIGNATURE_HEADER]))
        found.raw.append((raw, request.headers[SIGNATURE_HEADER]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield found
    await runner.cleanup()


async def until(check: Any, what: str, secs: float = 60) -> None:
    deadline = time.monotonic() + secs
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def test_webhooks_reach_an_endpoint_that_was_down_in_order_signed(
    chain: GatewayChain, database: str, gateway: str, receiver: Receiver
) -> None:
    shop = f"hooks-{os.urandom(4).hex()}"
    _, admin_key = new_key(database, shop, "admin")
    _, reader = new_key(database, f"other-{shop}", "read")
    async with httpx.AsyncClient(base_url=gateway, timeout=60, headers=auth(admin_key)) as http:
        refused = await http.post("/v1/webhooks", json={"url": "ftp://example.com/x", "events": ["charge.succeeded"]})
        assert code(refused) == (400, "invalid_url")
        refused = await http.post("/v1/webhooks", json={"url": receiver.url, "events": ["nothing.happened"]})
        assert code(refused) == (400, "invalid_request")
        assert code(await http.get("/v1/webhooks", headers=auth(reader))) == (403, "insufficient_scope")
        made = await http.post("/v1/webhooks", json={"url": receiver.url, "events": ["charge.succeeded", "access.changed"]})
        assert made.status_code == 201, made.text
        hook = made.json()
        assert hook["secret"].startswith("whsec_") and hook["events"] == ["access.changed", "charge.succeeded"]
        assert "secret" not in (await http.get("/v1/webhooks")).json()[0]

        # While the endpoint is down: two charges and a lock, three events.
        wallet, account = await payer_wallet(chain, tokens=300 * TOKEN)
        signatures = []
        for n in range(2):
            body = {"wallet": str(wallet.pubkey()), "service": "notification", "request_id": f"hook-{n}"}
            charged = await http.post("/v1/charges", json=body)
            assert charged.status_code == 201, charged.text
            signatures.append(charged.json()["signature"])
        client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
        try:
            await airdrop(client, wallet.pubkey(), SOL)
            locked = await client.send([client.lock_tokens_ix(wallet.pubkey(), chain.mint, account, REQUIRED)], [wallet])
        finally:
            await client.close()
        signatures.append(str(locked.signature))
        await until(lambda: asyncio.sleep(0, receiver.refused >= 3), "failed deliveries")
        assert receiver.received == []

        receiver.down = False
        await until(lambda: asyncio.sleep(0, len(receiver.received) >= 3), "the deliveries after recovery")
        log = (await http.get(f"/v1/webhooks/{hook['id']}/deliveries?limit=100")).json()["data"]

    events = [event for event, _ in receiver.received]
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "in order, once each"
    mine = [event for event in events if event["signature"] in signatures]
    assert [event["signature"] for event in mine] == signatures
    assert [(event["type"], event["data"]["event"]) for event in mine] == [
        ("charge.succeeded", "FeePaid"), ("charge.succeeded", "FeePaid"), ("access.changed", "TokensLocked"),
    ]
    assert mine[0]["data"]["payer"] == mine[2]["data"]["wallet"] == str(wallet.pubkey())
    for raw, header in receiver.raw:
        verify(hook["secret"].encode(), raw, header, time.time())
    first = log[-1]
    assert first["status"] == "delivered" and first["attempts"] >= 2
    assert [t["status_code"] for t in first["tries"]][:1] == [500] and first["tries"][-1]["status_code"] == 200


async def test_the_stream_pushes_events_and_resumes_without_gaps(chain: GatewayChain, database: str, gateway: str) -> None:
    shop = f"stream-{os.urandom(4).hex()}"
    _, token = new_key(database, shop, "read", "charge")
    ws = gateway.replace("http://", "ws://") + "/v1/stream"
    for url, expected in ((f"{ws}?api_key=agw_nope", 4401), (f"{ws}?api_key={token}&last_event_id=nope", 4404)):
        async with websockets.connect(url) as refused:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await refused.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == expected

    async def charge(n: int) -> str:
        wallet, _ = await payer_wallet(chain)
        body = {"wallet": str(wallet.pubkey()), "service": "search", "request_id": f"stream-{n}"}
        async with httpx.AsyncClient(base_url=gateway, timeout=60, headers=auth(token)) as http:
            charged = await http.post("/v1/charges", json=body)
        assert charged.status_code == 201, charged.text
        return str(charged.json()["signature"])

    async def next_event(socket: Any, types: str = "charge.succeeded") -> dict[str, Any]:
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if event.get("type") in types.split(","):
                return event  # type: ignore[no-any-return]

    async with websockets.connect(f"{ws}?types=charge.succeeded", additional_headers=auth(token)) as live:
        first = await charge(1)
        seen = await next_event(live)
    assert seen["signature"] == first and seen["data"]["event"] == "FeePaid"

    missed = [await charge(2), await charge(3)]  # while no one listens
    async with websockets.connect(f"{ws}?api_key={token}&last_event_id={seen['id']}&types=charge.succeeded") as resumed:
        again = [await next_event(resumed), await next_event(resumed)]
    assert [event["signature"] for event in again] == missed
    assert again[0]["seq"] > seen["seq"] and again[1]["seq"] > again[0]["seq"]


async def test_price_moves_raise_alerts_and_private_urls_are_refused() -> None:
    def updated(price: int, expo: int, index: int) -> HistoryEvent:
        data = {"old": 1, "new": 2, "price": price, "expo": expo, "publish_time": 7}
        return HistoryEvent("sig", 5, None, index, "RequirementUpdated", data)

    translator = Translator(500, None)
    assert [r.type for r in translator.records(updated(10_000, -6, 0), None)] == ["requirement.updated"]
    assert [r.type for r in translator.records(updated(10_400, -6, 1), None)] == ["requirement.updated"]  # 4%
    raised = translator.records(updated(1_100, -5, 2), None)  # 0.011 from 0.0104: 5.7%
    assert [r.type for r in raised] == ["requirement.updated", "alert.price_moved"]
    assert raised[1].event_id == "sig:2:alert" and json.loads(raised[1].data)["moved_bps"] == 576
    assert moved_bps((100, 0), (90, 0)) == 1_000
    for url, expected in (
        ("http://127.0.0.1:9/x", "private_url"), ("http://10.1.2.3/x", "private_url"), ("http://[::1]/x", "private_url"),
        ("http://169.254.169.254/latest", "private_url"), ("http://localhost/x", "private_url"),
        ("http://[::ffff:127.0.0.1]/x", "private_url"), ("http://[64:ff9b::a00:1]/x", "private_url"),
        ("http://8.8.8.8:5432/x", "private_url"), ("http://a..b/x", "private_url"),
        ("ftp://example.com/x", "invalid_url"), ("http://user:pw@example.com/", "invalid_url"), ("https:///x", "invalid_url"),
        ("https://example.com:abc/", "invalid_url"), ("https://example.com/\u0000", "invalid_url"),
    ):
        with pytest.raises(ApiError) as refused:
            await check_url(url, allow_private=False)
        assert refused.value.code == expected, url
    assert await check_url("http://127.0.0.1:9/x", allow_private=True) == "http://127.0.0.1:9/x"


async def test_parallel_charges_cannot_pass_the_wallet_limit_together(chain: GatewayChain, database: str, gateway: str) -> None:
    shop = f"race-{os.urandom(4).hex()}"
    _, token = new_key(database, shop, "charge")
    wallet, account = await payer_wallet(chain)
    async with httpx.AsyncClient(base_url=gateway, timeout=60, headers=auth(token)) as http:
        answers = await asyncio.gather(*(
            http.post("/v1/charges", json={"wallet": str(wallet.pubkey()), "service": "search", "request_id": f"race-{n}"})
            for n in range(6)
        ))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 201, 429, 429, 429, 429], [a.text for a in answers]
    assert await token_balance(chain, account) == 10 * TOKEN - 2 * SEARCH


async def test_a_merchant_manages_its_keys_and_a_revoked_key_loses_its_stream(database: str, gateway: str) -> None:
    shop = f"keys-{os.urandom(4).hex()}"
    admin_id, admin_key = new_key(database, shop, "admin", rate=100)
    other_id, _ = new_key(database, f"other-{shop}", "admin")
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=auth(admin_key)) as http:
        me = (await http.get("/v1/me")).json()
        assert (me["key_id"], me["merchant"], me["scopes"], me["token_decimals"]) == (admin_id, shop, ["admin"], 8)
        assert code(await http.post("/v1/keys", json={"scopes": ["root"]})) == (400, "invalid_request")
        assert code(await http.post("/v1/keys", json={"scopes": ["read"], "rate_per_sec": 101})) == (400, "invalid_request")
        assert code(await http.post("/v1/keys", json={"scopes": ["read"], "label": "x" * 129})) == (400, "invalid_request")
        assert code(await http.post("/v1/keys", json={"scopes": ["read"], "label": "ok\r\x1b[2Kforged"})) == (400, "invalid_request")
        made = await http.post("/v1/keys", json={"scopes": ["read"], "label": "wall screen"})
        assert made.status_code == 201, made.text
        reader = made.json()
        assert (reader["merchant"], reader["scopes"], reader["rate_per_sec"]) == (shop, ["read"], 100)
        assert [key["key_id"] for key in (await http.get("/v1/keys")).json()] == [admin_id, reader["key_id"]]
        assert code(await http.delete(f"/v1/keys/{other_id}")) == (404, "key_not_found")
        assert code(await http.delete("/v1/keys/nope")) == (404, "key_not_found")
        assert (await http.get("/v1/me", headers=auth(reader["api_key"]))).json()["scopes"] == ["read"]
        assert code(await http.get("/v1/keys", headers=auth(reader["api_key"]))) == (403, "insufficient_scope")

        ws = gateway.replace("http://", "ws://") + f"/v1/stream?api_key={reader['api_key']}"
        async with websockets.connect(ws) as live:
            assert json.loads(await live.recv())["stream"] == "open"
            revoked = await http.delete(f"/v1/keys/{reader['key_id']}")
            assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(live.recv(), 10)
        assert closed.value.rcvd is not None and (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "api_key_revoked")
        assert code(await http.get("/v1/me", headers=auth(reader["api_key"]))) == (401, "api_key_revoked")
        assert code(await http.delete(f"/v1/keys/{reader['key_id']}")) == (404, "key_not_found")


async def test_charges_are_filtered_totalled_and_exported(chain: GatewayChain, database: str, gateway: str) -> None:
    shop = f"ledger-{os.urandom(4).hex()}"
    _, token = new_key(database, shop, "charge")
    wallet, _ = await payer_wallet(chain)
    async with httpx.AsyncClient(base_url=gateway, timeout=60, headers=auth(token)) as http:
        for service, request_id in (("search", "-1-1"), ("goal", "plain-2")):
            charged = await http.post("/v1/charges", json={"wallet": str(wallet.pubkey()), "service": service, "request_id": request_id})
            assert charged.status_code == 201, charged.text
        searches = (await http.get("/v1/charges", params={"service": "search", "status": "succeeded"})).json()["data"]
        mine = (await http.get("/v1/charges", params={"wallet": str(wallet.pubkey())})).json()["data"]
        later = (await http.get("/v1/charges", params={"since_ms": int(time.time() * 1000) + 60_000})).json()["data"]
        totals = (await http.get("/v1/reports/charge-totals")).json()["data"]
        exported = await http.get("/v1/reports/charges.csv")
        assert code(await http.get("/v1/charges", params={"status": "lost"})) == (400, "invalid_request")
        assert code(await http.get("/v1/reports/charge-totals", params={"wallet": "not-a-key"}))[0] == 400
    assert [c["request_id"] for c in searches] == ["-1-1"] and later == []
    assert [c["request_id"] for c in mine] == ["plain-2", "-1-1"]
    assert totals == [
        {"service": "goal", "status": "succeeded", "charges": 1, "amount_units": TOKEN},
        {"service": "search", "status": "succeeded", "charges": 1, "amount_units": SEARCH},
    ]
    assert exported.headers["content-type"].startswith("text/csv") and f"charges-{shop}.csv" in exported.headers["content-disposition"]
    rows = exported.text.splitlines()
    assert rows[0].startswith("request_id,status,service,amount_units") and len(rows) == 3
    assert rows[2].startswith("'-1-1,succeeded,search,"), "a cell a spreadsheet would run is quoted"


async def test_a_test_send_reaches_only_that_endpoint_and_events_read_newest_first(
    database: str, gateway: str, receiver: Receiver
) -> None:
    shop = f"tests-{os.urandom(4).hex()}"
    _, admin_key = new_key(database, shop, "admin")
    _, stranger = new_key(database, f"other-{shop}", "admin")
    receiver.down = False
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=auth(admin_key)) as http:
        hook = (await http.post("/v1/webhooks", json={"url": receiver.url, "events": ["buy_order.filled"]})).json()
        assert code(await http.post(f"/v1/webhooks/{hook['id']}/test", headers=auth(stranger))) == (404, "webhook_not_found")
        sent = [(await http.post(f"/v1/webhooks/{hook['id']}/test")) for _ in range(3)]
        assert [answer.status_code for answer in sent] == [202] * 3, sent[0].text
        await until(lambda: asyncio.sleep(0, len(receiver.received) == 3), "the test deliveries")
        assert [event["id"] for event, _ in receiver.received] == [answer.json()["event_id"] for answer in sent]
        assert all(event["type"] == "webhook.test" and "url" not in event["data"] for event, _ in receiver.received)
        verify(hook["secret"].encode(), receiver.raw[0][0], receiver.raw[0][1], time.time())
        log = (await http.get(f"/v1/webhooks/{hook['id']}/deliveries")).json()["data"]
        assert [(d["id"], d["status"]) for d in log] == [(answer.json()["delivery_id"], "delivered") for answer in reversed(sent)]
        newest = (await http.get("/v1/events", params={"ending_before": 2**63 - 1, "limit": 2, "types": "webhook.test"})).json()
        older = (await http.get("/v1/events", params={"ending_before": newest["next_cursor"], "limit": 2, "types": "webhook.test"})).json()
        both = await http.get("/v1/events", params={"ending_before": 5, "starting_after": 1})
        theirs = (await http.get("/v1/events", params={"ending_before": 2**63 - 1}, headers=auth(stranger))).json()["data"]
    shown = [event["id"] for event in newest["data"] + older["data"]]
    assert shown == [answer.json()["event_id"] for answer in reversed(sent)] and not older["has_more"]
    assert code(both) == (400, "invalid_request")
    assert all(e["type"] != "webhook.test" for e in theirs), "a merchant's test event is its own"


async def test_the_dashboard_is_served_with_a_strict_policy_and_views_read_the_chain(
    chain: GatewayChain, database: str, gateway: str
) -> None:
    _, reader = new_key(database, "shop", "read")
    async with httpx.AsyncClient(base_url=gateway, timeout=30, headers=auth(reader)) as http:
        before = (await http.get("/v1/treasury")).json()
        client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
        try:  # a batch reported now, after the gateway began indexing
            found = await client.fetch_buyback()
            assert found is not None
            seq = found.data.last_batch_seq + 1
            root = batch_root(("subscription", 4_200), ("other", 58))
            await client.send([client.report_revenue_ix(chain.roles.keeper.pubkey(), seq, root)], [chain.roles.keeper])
        finally:
            await client.close()

        async def indexed() -> bool:
            found = await http.get("/v1/events", params={"types": "revenue.batch_committed", "ending_before": 2**63 - 1})
            return bool(found.json()["data"])

        async def counted() -> bool:
            return bool((await http.get("/v1/treasury")).json()["revenue_cents"] != before["revenue_cents"])

        await until(indexed, "the batch indexed")
        await until(counted, "the treasury read anew (its cache lasts a second)")
        treasury = (await http.get("/v1/treasury")).json()
        daily = (await http.get("/v1/revenue/daily", params={"days": 2})).json()["data"]
        refused = await http.get("/v1/revenue/daily", params={"days": 91})
        keeper = await http.get("/v1/keeper")
        proof = await http.get("/v1/revenue/proofs/INV%2F2026%2F1", params={"cents": 100})
        uncounted = await http.get("/v1/revenue/proofs/INV-1")
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        page = await http.get("/")
        script = await http.get("/app.js")
        missing = await http.get("/nothing.js")
        escape = await http.get("/%2e%2e/%2e%2e/pyproject.toml")
        unknown = await http.get("/v1/nothing")
    assert page.status_code == 200 and "<title>AISTM7 dashboard</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert missing.status_code == 404 and escape.status_code == 404 and code(unknown) == (404, "not_found")
    assert treasury["revenue_cents"]["total"] == before["revenue_cents"]["total"] + 4_258
    assert treasury["revenue_cents"]["subscription"] == before["revenue_cents"]["subscription"] + 4_200
    assert isinstance(treasury["quote_vault_balance"], int) and treasury["token_decimals"] == 8
    assert sum(day["subscription"] for day in daily) >= 4_200 and sum(day["batches"] for day in daily) >= 1
    assert code(refused) == (400, "invalid_request")
    assert code(keeper) == code(proof) == (503, "keeper_unknown")
    assert code(uncounted) == (400, "invalid_request")


LEAKED = "https://rpc.example/?api-key=SECRET"


async def test_a_lying_or_leaky_keeper_cannot_pass_a_false_proof_or_a_secret(chain: GatewayChain, database: str) -> None:
    """The gateway shows the keeper's health without its texts, and checks
    every proof the keeper serves against the chain."""
    leaves = [tree.leaf("INV/2026/7", "subscription", 4_200), tree.leaf("INV/2026/8", "other", 58)]
    honest_root = tree.root(leaves)
    client = Aistm7Client.connect(chain.rpc_url, chain.deployer)
    try:
        found = await client.fetch_buyback()
        assert found is not None
        seq = found.data.last_batch_seq + 1
        await client.send([client.report_revenue_ix(chain.roles.keeper.pubkey(), seq, honest_root)], [chain.roles.keeper])
        program_id = client.program_id
    finally:
        await client.close()
    honest = document(program_id, EventProof(seq, None, "INV/2026/7", "subscription", 4_200, 0, 2, tree.proof(tree.levels(leaves), 0), honest_root))
    forged_leaves = [tree.leaf("INV/2026/9", "course_sale", 999_999), leaves[1]]
    forged = document(program_id, EventProof(
        seq, None, "INV/2026/9", "course_sale", 999_999, 0, 2, tree.proof(tree.levels(forged_leaves), 0), tree.root(forged_leaves)
    ))
    answers = {"INV/2026/7": honest, "INV/2026/9": forged}

    async def health(_: web.Request) -> web.Response:
        body = {
            "ok": False, "reasons": [f"push_revenue has not succeeded (last error: {LEAKED})"], "rpc_reachable": True, "slot": 7,
            "journal": {"last_confirmed_batch": 3, "pending_batch": None, "backlog_events": 2, "quarantined_events": 0, "path": LEAKED},
            "jobs": {"push_revenue": {"runs": 4, "errors": 1, "seconds_since_success": 2.5, "last_error": LEAKED}},
        }
        return web.json_response(body, status=503)

    async def proof(request: web.Request) -> web.Response:
        ref = request.match_info["ref"]
        if ref == "deep":
            return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")
        if ref not in answers:
            return web.json_response({"error": "not_provable", "message": f"no event {ref!r} in the journal"}, status=404)
        return web.json_response(answers[ref])

    app = web.Application()
    app.add_routes([web.get("/health", health), web.get("/revenue/proofs/{ref:.+}", proof)])
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    process, base = start_gateway(chain, database, "--keeper-url", f"http://127.0.0.1:{port}")
    _, reader = new_key(database, "auditor", "read")
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=auth(reader)) as http:
            shown = await http.get("/v1/keeper")
            verified = await http.get("/v1/revenue/proofs/INV%2F2026%2F7", params={"cents": 4_200})
            wrong_amount = await http.get("/v1/revenue/proofs/INV%2F2026%2F7", params={"cents": 4_201})
            unknown = await http.get("/v1/revenue/proofs/INV%2F2026%2F1", params={"cents": 4_200})
            lie = await http.get("/v1/revenue/proofs/INV%2F2026%2F9", params={"cents": 999_999})
            deep = await http.get("/v1/revenue/proofs/deep", params={"cents": 1})
    finally:
        stop(process)
        await runner.cleanup()
    assert shown.status_code == 200 and LEAKED not in shown.text
    assert shown.json() | {"slot": None} == {
        "reachable": True, "ok": False, "rpc_reachable": True, "slot": None, "error": None,
        "journal": {"last_confirmed_batch": 3, "pending_batch": None, "pending_batch_age_secs": None, "backlog_events": 2,
                    "oldest_unpushed_age_secs": None, "quarantined_events": 0, "oldest_quarantined_age_secs": None},
        "jobs": {"push_revenue": {"runs": 4, "errors": 1, "seconds_since_success": 2.5}},
    }
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["verified"] and body["batch"]["root"] == honest_root.hash.hex() and body["proof"]["batch_seq"] == seq
    assert code(wrong_amount) == code(unknown) == (404, "not_provable")
    assert wrong_amount.json()["error"]["message"] == unknown.json()["error"]["message"], "an unknown event and a wrong amount read alike"
    assert code(lie) == (422, "proof_invalid")
    assert code(deep) == (503, "keeper_unavailable")
