"""Clients nobody here wrote, against a validator of their own: @solana/web3.js
1.x and @coral-xyz/anchor (TypeScript under node's test runner, from
tests/clients), and solana-py's WebSocket client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
from solana.rpc.commitment import Confirmed, Finalized, Processed
from solana.rpc.websocket_api import connect
from solders.keypair import Keypair
from solders.rpc.config import RpcTransactionLogsFilterMentions
from solders.rpc.responses import AccountNotification, LogsNotification, SignatureNotification, SubscriptionResult

from keeper.client import Aistm7Client
from keeper.deploy import deploy
from keeper.state import OracleParams
from tests.conftest import BACKUP_FEED, PRIMARY_FEED, ROOT, SOL, Roles, advance, airdrop, launch_validator, signed_transfer

CLIENTS = ROOT / "tests" / "clients"
# $0.05 and $0.06 per token (expo -8): 300 then 250 whole tokens for $15.
FIRST_PRICE, SECOND_PRICE = 5_000_000, 6_000_000
# Twice the minimum interval between applied requirement updates (60 s).
MIN_UPDATE_GAP_SECS = 120


@dataclass(frozen=True)
class Deployed:
    rpc_url: str
    payer: Keypair
    primary: Keypair
    backup: Keypair


@pytest.fixture(scope="module")
def deployed(xprocess, tmp_path_factory) -> Iterator[Deployed]:  # type: ignore[no-untyped-def]
    """A validator of its own with the program deployed and priced once."""
    rpc_url = launch_validator(xprocess, "clients", tmp_path_factory.mktemp("clients-ledger"))
    payer, primary, backup = Keypair(), Keypair(), Keypair()
    roles = Roles(Keypair(), Keypair(), Keypair(), Keypair(), Keypair())

    async def run() -> None:
        client = Aistm7Client.connect(rpc_url, payer)
        try:
            await airdrop(client, payer.pubkey(), 100 * SOL)
            await airdrop(client, roles.admin.pubkey(), 10 * SOL)
            oracle = OracleParams(primary_feed_id=PRIMARY_FEED, backup_feed_id=BACKUP_FEED)
            await deploy(client, Keypair(), oracle, roles.authorities(), roles.admin)
            await write_prices(client, primary, backup, FIRST_PRICE)
            await client.send([client.refresh_requirement_ix(primary.pubkey(), backup.pubkey())])
        finally:
            await client.close()

    asyncio.run(run())
    yield Deployed(rpc_url, payer, primary, backup)
    xprocess.getinfo("clients").terminate()


async def write_prices(client: Aistm7Client, primary: Keypair, backup: Keypair, price: int) -> None:
    now = await client.cluster_time()
    for account, feed in ((primary, PRIMARY_FEED), (backup, BACKUP_FEED)):
        ix = client.write_price_ix(client.payer.pubkey(), account.pubkey(), feed, price, now)
        await client.send([ix], [account])


def node_test(script: str, env: dict[str, str]) -> None:
    """Run one TypeScript test file under node's test runner; its report is the failure message."""
    node = shutil.which("node")
    assert node, "node is missing: run scripts/setup"
    command = [node, "--import", "tsx", "--test", "--test-reporter=spec", script]
    result = subprocess.run(
        command, cwd=CLIENTS, env={**os.environ, **env}, capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_web3js_sends_confirms_parses_and_subscribes(deployed: Deployed) -> None:
    node_test("web3.test.ts", {"RPC_URL": deployed.rpc_url})


def test_an_anchor_program_from_the_idl_refreshes_the_requirement(deployed: Deployed, tmp_path: Path) -> None:
    advance(deployed.rpc_url, MIN_UPDATE_GAP_SECS)

    async def reprice() -> None:
        client = Aistm7Client.connect(deployed.rpc_url, deployed.payer)
        try:
            await write_prices(client, deployed.primary, deployed.backup, SECOND_PRICE)
        finally:
            await client.close()

    asyncio.run(reprice())
    keypair = tmp_path / "payer.json"
    keypair.write_text(json.dumps(list(bytes(deployed.payer))))
    node_test(
        "anchor.test.ts",
        {
            "RPC_URL": deployed.rpc_url,
            "IDL_PATH": str(ROOT / "keeper" / "idl" / "aistm7.json"),
            "PAYER_KEYPAIR": str(keypair),
            "PRIMARY_PRICE": str(deployed.primary.pubkey()),
            "BACKUP_PRICE": str(deployed.backup.pubkey()),
        },
    )


async def test_solana_py_websocket_subscriptions_at_each_commitment(deployed: Deployed) -> None:
    """solana.rpc.websocket_api: account, logs and signature notifications
    arrive at processed, confirmed and finalized, each level no earlier than
    the one before."""
    host, port = deployed.rpc_url.replace("http://", "ws://").rsplit(":", 1)
    client = Aistm7Client.connect(deployed.rpc_url, deployed.payer)
    watched = Keypair().pubkey()
    commitments = (Processed, Confirmed, Finalized)
    level_of: dict[int, int] = {}  # subscription id -> index in `commitments`
    arrived: list[tuple[int, str]] = []  # (level, kind) in arrival order

    def take(messages: list[Any]) -> None:
        for message in messages:
            if isinstance(message, SubscriptionResult):
                level_of[message.result] = pending.pop(message.id)
            elif isinstance(message, AccountNotification):
                assert message.result.value.lamports == SOL
                arrived.append((level_of[message.subscription], "account"))
            elif isinstance(message, LogsNotification):
                assert message.result.value.signature == signature
                arrived.append((level_of[message.subscription], "logs"))
            elif isinstance(message, SignatureNotification):
                assert message.result.value.err is None
                arrived.append((level_of[message.subscription], "signature"))

    try:
        async with connect(f"{host}:{int(port) + 1}") as ws:
            pending: dict[int, int] = {}  # request id -> level
            for level, commitment in enumerate(commitments):
                await ws.account_subscribe(watched, commitment)
                pending[max(ws.sent_subscriptions)] = level
                await ws.logs_subscribe(RpcTransactionLogsFilterMentions(watched), commitment)
                pending[max(ws.sent_subscriptions)] = level
            while pending:
                take(await asyncio.wait_for(ws.recv(), timeout=30))

            latest = (await client.connection.get_latest_blockhash(Confirmed)).value.blockhash
            signature = (await client.connection.send_transaction(signed_transfer(deployed.payer, watched, SOL, latest))).value
            for level, commitment in enumerate(commitments):
                await ws.signature_subscribe(signature, commitment)
                pending[max(ws.sent_subscriptions)] = level
            while len(arrived) < 3 * len(commitments):
                take(await asyncio.wait_for(ws.recv(), timeout=60))
    finally:
        await client.close()
    assert sorted(arrived) == sorted((level, kind) for level in range(3) for kind in ("account", "logs", "signature"))
    levels = [level for level, _ in arrived]
    assert levels.index(2) > max(i for i, level in enumerate(levels) if level == 0)




async def test_solana_py_reads_every_encoding_at_every_commitment(deployed: Deployed) -> None:
    """solana-py / solders parse what each encoding and commitment returns:
    accounts (base64, base58, base64+zstd, jsonParsed), the config's token
    mint as jsonParsed, transactions (json, jsonParsed, base64, base58) and
    the block that holds one; history refuses `processed`."""
    client = Aistm7Client.connect(deployed.rpc_url, deployed.payer)
    connection = client.connection
    try:
        receiver = Keypair()
        latest = (await connection.get_latest_blockhash(Confirmed)).value.blockhash
        signature = (await connection.send_transaction(signed_transfer(deployed.payer, receiver.pubkey(), SOL, latest))).value
        await connection.confirm_transaction(signature, Finalized, sleep_seconds=0.2)

        config = client.config_address()
        found = await client.fetch_config()
        assert found is not None
        mint = found.data.mint
        for commitment in (Processed, Confirmed, Finalized):
            raw = (await connection.get_account_info(config, commitment, encoding="base64")).value
            assert raw is not None and raw.owner == client.program_id
            zstd = (await connection.get_account_info(config, commitment, encoding="base64+zstd")).value
            assert zstd is not None and zstd.data == raw.data
            small = (await connection.get_account_info(receiver.pubkey(), commitment, encoding="base58")).value
            assert small is not None and small.lamports == SOL
            parsed = (await connection.get_account_info_json_parsed(mint, commitment)).value
            assert parsed is not None and parsed.data.parsed["type"] == "mint"
            assert parsed.data.program == "spl-token"
        for commitment in (Confirmed, Finalized):
            for encoding in ("json", "jsonParsed", "base64", "base58"):
                tx = (await connection.get_transaction(signature, encoding, commitment, 0)).value
                assert tx is not None and tx.transaction.meta is not None
                assert tx.transaction.meta.err is None and tx.transaction.meta.fee == 5_000
            block = (await connection.get_block(tx.slot, "jsonParsed", 0)).value
            assert str(signature) in [str(t.transaction.signatures[0]) for t in block.transactions or []]
        with pytest.raises(Exception, match="commitment below"):
            await connection.get_transaction(signature, "json", Processed, 0)
    finally:
        await client.close()
