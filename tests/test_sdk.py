"""The SDKs against a live gateway, local validator and deployed program, on
SQLite and on PostgreSQL: the Python SDK (sync and async) and the
TypeScript SDK (sdk/ts, built with tsc and run under node's test runner)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from typing import Iterator

import pytest

from keeper.sdk import AsyncGateway, Gateway, GatewayError, PaymentFailed, verify_webhook
from tests.conftest import ROOT
from tests.test_gateway import GatewayChain, Receiver, chain, database, gateway, new_key, payer_wallet, receiver  # noqa: F401 (fixtures)

SDK_TS = ROOT / "sdk" / "ts"

__all__ = ["chain", "database", "gateway", "receiver"]


@pytest.fixture(scope="module")
def keys(database: str) -> Iterator[tuple[str, str]]:
    """(read+charge key, admin key) of a merchant of its own."""
    shop = f"sdk-{os.urandom(4).hex()}"
    yield new_key(database, shop, "read", "charge")[1], new_key(database, shop, "admin")[1]


async def test_the_python_sdk_sync(chain: GatewayChain, gateway: str, keys: tuple[str, str]) -> None:
    token, admin_token = keys
    wallet, _ = await payer_wallet(chain)
    poor, _ = await payer_wallet(chain, allowance=0)
    tag = os.urandom(4).hex()

    def run() -> None:
        with Gateway(gateway, token) as sdk, Gateway(gateway, admin_token) as admin:
            access = sdk.access(str(wallet.pubkey()))
            assert access.wallet == str(wallet.pubkey()) and access.slot > 0 and access.requirement.set_by == "override"
            assert sorted(fee.name for fee in sdk.fees().data) == ["analysis", "goal", "notification", "search"]
            summary = sdk.revenue_summary(limit=1)
            assert len(summary.batches.data) == 1 and summary.batches.has_more
            assert sdk.buy_orders().data == [] and sdk.health()["ok"]
            with pytest.raises(GatewayError) as refused:
                sdk.access("nope")
            assert (refused.value.status, refused.value.code) == (400, "invalid_wallet")
            with pytest.raises(PaymentFailed) as unpaid:
                sdk.charge(str(poor.pubkey()), "search", f"poor-{tag}")
            assert unpaid.value.code == "allowance_too_small"
            with pytest.raises(GatewayError) as scoped:
                sdk.webhooks()
            assert scoped.value.code == "insufficient_scope"

            first = sdk.charge(str(wallet.pubkey()), "search", f"sync-{tag}")
            assert first.status == "succeeded" and first.signature
            assert sdk.charge(str(wallet.pubkey()), "search", f"sync-{tag}") == first == sdk.get_charge(f"sync-{tag}")
            assert [c.request_id for c in sdk.charges(limit=1).data] == [f"sync-{tag}"]

            hook = admin.create_webhook("http://127.0.0.1:9/unused", ["charge.failed"])
            assert [h.id for h in admin.webhooks()] == [hook.id]
            assert admin.deliveries(hook.id).data == []
            assert admin.delete_webhook(hook.id).id == hook.id and admin.webhooks() == []

            deadline = time.monotonic() + 60
            while not (logged := [e for e in sdk.events(types=["charge.succeeded"], limit=100).data if e.signature == first.signature]):
                assert time.monotonic() < deadline, "the charge's event was never recorded"
                time.sleep(0.2)
            events = sdk.stream(types=["charge.succeeded"], starting_after=logged[0].seq - 1)
            found = next(events)
            events.close()
            assert found == logged[0] and found.type == "charge.succeeded" and found.data["event"] == "FeePaid"

    await asyncio.to_thread(run)


async def test_the_python_sdk_async_with_webhooks_and_resume(
    chain: GatewayChain, gateway: str, keys: tuple[str, str], receiver: Receiver
) -> None:
    token, admin_token = keys
    wallets = [(await payer_wallet(chain))[0] for _ in range(2)]
    tag = os.urandom(4).hex()
    receiver.down = False
    received = receiver.raw
    async with AsyncGateway(gateway, token) as sdk, AsyncGateway(gateway, admin_token) as admin:
        endpoint = await admin.create_webhook(receiver.url, ["charge.succeeded"])
        stream = sdk.stream(types=["charge.succeeded"])
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0.5)  # connected before the charge
        first = await sdk.charge(str(wallets[0].pubkey()), "analysis", f"async-1-{tag}")
        seen = await asyncio.wait_for(waiting, 60)
        await stream.aclose()
        assert seen.signature == first.signature

        missed = [await sdk.charge(str(wallets[1].pubkey()), "search", f"async-{n}-{tag}") for n in (2, 3)]
        resumed = sdk.stream(types=["charge.succeeded"], last_event_id=seen.id)
        again = [await asyncio.wait_for(resumed.__anext__(), 60) for _ in range(2)]
        await resumed.aclose()
        assert [event.signature for event in again] == [charge.signature for charge in missed]

        deadline = time.monotonic() + 60
        while len(received) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        delivered = [verify_webhook(endpoint.secret, body, header) for body, header in received]
        assert [event.signature for event in delivered] == [first.signature, *(c.signature for c in missed)]
        with pytest.raises(ValueError, match="bad_signature"):
            verify_webhook("whsec_other", *received[0])
        log = await admin.deliveries(endpoint.id)
        assert {d.event_id for d in log.data if d.status == "delivered"} >= {e.id for e in delivered}
        replayed = await admin.replay(endpoint.id, log.data[-1].id)
        while len(received) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert verify_webhook(endpoint.secret, *received[3]).id == log.data[-1].event_id and replayed.delivery_id > 0
        await admin.delete_webhook(endpoint.id)


async def test_the_typescript_sdk(chain: GatewayChain, gateway: str, keys: tuple[str, str]) -> None:
    token, admin_token = keys
    wallets = [str((await payer_wallet(chain))[0].pubkey()) for _ in range(4)]
    poor = str((await payer_wallet(chain, allowance=0))[0].pubkey())
    env = {
        **os.environ, "AISTM7_GATEWAY_URL": gateway, "AISTM7_GATEWAY_KEY": token, "AISTM7_GATEWAY_ADMIN_KEY": admin_token,
        "AISTM7_WALLETS": ",".join(wallets), "AISTM7_POOR_WALLET": poor,
    }
    done = await asyncio.to_thread(
        subprocess.run, ["npm", "test", "--silent"], cwd=SDK_TS, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# pass 5" in done.stdout, done.stdout[-2000:]
