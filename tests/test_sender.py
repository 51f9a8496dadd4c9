"""The sender never lands a write twice, even when a send's answer is lost,
and pays the recent priority fee when asked."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator

import httpx
import pytest
from aiohttp import web
from solana.rpc.commitment import Confirmed
from solders.compute_budget import set_compute_unit_price
from solders.keypair import Keypair
from solders.system_program import TransferParams, transfer

from keeper.client import Aistm7Client
from tests.conftest import SOL, _free_port, airdrop

COMPUTE_BUDGET = "ComputeBudget111111111111111111111111111111"


class LossyProxy:
    """Forwards JSON-RPC to the validator; the first sendTransaction is
    forwarded (it lands) but its answer is replaced by a 502."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.sends = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(self.upstream, content=body, headers={"Content-Type": "application/json"})
        if json.loads(body).get("method") == "sendTransaction":
            self.sends += 1
            if self.sends == 1:
                return web.Response(status=502, text="upstream answer lost")
        return web.Response(body=answer.content, content_type="application/json")


@pytest.fixture
async def lossy(rpc_url: str) -> AsyncIterator[tuple[str, LossyProxy]]:
    proxy = LossyProxy(rpc_url)
    app = web.Application()
    app.router.add_post("/", proxy.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}", proxy
    await runner.cleanup()


async def test_a_lost_answer_is_checked_not_resent_blindly(deployer: Keypair, lossy: tuple[str, LossyProxy]) -> None:
    url, proxy = lossy
    client = Aistm7Client.connect(url, deployer)
    receiver = Keypair().pubkey()
    try:
        ix = transfer(TransferParams(from_pubkey=deployer.pubkey(), to_pubkey=receiver, lamports=1_000_000))
        result = await client.send([ix])
        balance = (await client.connection.get_balance(receiver, Confirmed)).value
    finally:
        await client.close()

    assert balance == 1_000_000, "landed exactly once"
    assert proxy.sends == 1, "found landed by its signature, so never sent again"
    assert result.signature is not None


async def test_priority_fees_follow_recent_prices(client: Aistm7Client, rpc_url: str) -> None:
    # A fresh sender, so the recent prices for its accounts are the ones below.
    sender = Keypair()
    await airdrop(client, sender.pubkey(), SOL)
    await asyncio.sleep(0.5)  # prices are per slot: keep the airdrop's zero out of the paid slot
    receiver = Keypair().pubkey()
    paid = [set_compute_unit_price(7_000), transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=receiver, lamports=1_000_000))]
    await client.send(paid, [sender])
    payer = Aistm7Client.connect(rpc_url, sender, priority_fee=True)
    try:
        ix = transfer(TransferParams(from_pubkey=sender.pubkey(), to_pubkey=receiver, lamports=2_000_000))
        result = await payer.send([ix])
        found = (await payer.connection.get_transaction(result.signature, "json", Confirmed, 0)).value
    finally:
        await payer.close()

    assert found is not None
    keys = [str(key) for key in found.transaction.transaction.message.account_keys]  # type: ignore[union-attr]
    assert COMPUTE_BUDGET in keys
    assert (await client.connection.get_balance(receiver, Confirmed)).value == 3_000_000
