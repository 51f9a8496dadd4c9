"""The access requirement over JSON-RPC: pricing rows, guard rails, breaker,
override, pause and verify_access. Tests share the session's deployment and
leave it unpaused, unoverridden and with the breaker reset."""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import dataclass

import httpx
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from keeper.client import Aistm7Client, TxResult
from keeper.deploy import Deployment
from keeper.errors import ProgramFailure
from keeper.state import RequirementOverride, RequirementState
from tests.conftest import BACKUP_FEED, PRIMARY_FEED, ROOT, Roles, token_account

TOKEN = 10**8


@dataclass(frozen=True)
class Feeds:
    primary: Keypair
    backup: Keypair


@pytest.fixture(scope="module")
def feeds() -> Feeds:
    return Feeds(Keypair(), Keypair())


def advance(rpc_url: str, seconds: int) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "advanceClock", "params": [seconds]}
    assert "result" in httpx.post(rpc_url, json=body, timeout=60).json()


async def write(client: Aistm7Client, account: Keypair, feed: bytes, price: int, age: int = 0, **kw: int) -> None:
    now = await client.cluster_time()
    ix = client.write_price_ix(client.payer.pubkey(), account.pubkey(), feed, price, now - age, **kw)
    await client.send([ix], [account])


async def refresh(client: Aistm7Client, feeds: Feeds, with_backup: bool = False) -> TxResult:
    backup = feeds.backup.pubkey() if with_backup else None
    return await client.send([client.refresh_requirement_ix(feeds.primary.pubkey(), backup)])


async def state(client: Aistm7Client) -> RequirementState:
    found = await client.fetch_config()
    assert found is not None
    return found.data.requirement


async def expect_failure(name: str, pending: object) -> None:
    with pytest.raises(ProgramFailure, match=name) as raised:
        await pending  # type: ignore[misc]
    assert raised.value.name == name


async def test_bad_prices_are_rejected_by_name_and_change_nothing(
    client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    cases = [
        ("WrongFeedId", dict(feed=BACKUP_FEED)),
        ("PartialVerification", dict(partial_signatures=5)),
        ("StalePrice", dict(age=61)),
        ("FuturePrice", dict(age=-30)),
        ("NonPositivePrice", dict(price=0)),
        ("NonPositivePrice", dict(price=-15_000_000)),
        ("ConfidenceTooWide", dict(conf=300_001)),
        ("EmaDivergence", dict(ema_price=14_200_000)),
    ]
    for name, case in cases:
        feed = case.pop("feed", PRIMARY_FEED)
        price = case.pop("price", 15_000_000)
        await write(client, feeds.primary, feed, price, **case)  # type: ignore[arg-type]
        await expect_failure(name, refresh(client, feeds))
        assert (await state(client)).required == 0, name

    not_a_price = client.refresh_requirement_ix(client.payer.pubkey())
    await expect_failure("WrongPriceOwner", client.send([not_a_price]))
    assert (await state(client)).required == 0


@pytest.mark.parametrize(
    "price, required",
    [
        (15_000_000, 10_000_000_000),  # $0.15 -> 100 tokens
        (10_000_000, 15_000_000_000),  # $0.10 -> 150 tokens
        (100_000, 1_000_000_000_000),  # $0.001 -> 10_000 tokens (cap)
        (100_000_000, 10_000_000_000),  # $1.00 -> 100 tokens (floor)
        (12_345_678, 12_150_000_997),  # 121.500009963... tokens, rounded up
    ],
)
async def test_requirement_rows(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds, price: int, required: int
) -> None:
    advance(rpc_url, 61)
    await write(client, feeds.primary, PRIMARY_FEED, price)

    result = await refresh(client, feeds)

    current = await state(client)
    assert (current.required, current.price, current.expo, current.source) == (required, price, -8, "Primary")
    (event,) = client.events(result.logs)
    assert event.name == "RequirementUpdated"
    assert (event.data.new, event.data.price, bytes(event.data.feed)) == (required, price, PRIMARY_FEED)


async def test_a_move_below_one_percent_changes_nothing_and_one_percent_applies(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    advance(rpc_url, 61)
    await write(client, feeds.primary, PRIMARY_FEED, 15_000_000)
    await refresh(client, feeds)
    advance(rpc_url, 61)

    await write(client, feeds.primary, PRIMARY_FEED, 15_148_500)  # +0.99%
    await expect_failure("BelowUpdateThreshold", refresh(client, feeds))
    assert (await state(client)).price == 15_000_000

    await write(client, feeds.primary, PRIMARY_FEED, 15_150_000)  # +1.00%
    await refresh(client, feeds)
    assert (await state(client)).price == 15_150_000

    # And the interval: a big move right after an update waits.
    await write(client, feeds.primary, PRIMARY_FEED, 10_000_000)
    await expect_failure("UpdateTooSoon", refresh(client, feeds))
    assert (await state(client)).price == 15_150_000


async def test_the_backup_prices_when_the_primary_is_stale(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    advance(rpc_url, 61)
    await write(client, feeds.primary, PRIMARY_FEED, 15_000_000, age=600)
    await write(client, feeds.backup, BACKUP_FEED, 10_000_000)

    result = await refresh(client, feeds, with_backup=True)

    current = await state(client)
    assert (current.required, current.source) == (15_000_000_000, "Backup")
    assert bytes(client.events(result.logs)[0].data.feed) == BACKUP_FEED


async def test_diverging_feeds_trip_the_breaker_until_the_guardian_resets_it(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds, roles: Roles
) -> None:
    advance(rpc_url, 61)
    before = await state(client)
    await write(client, feeds.primary, PRIMARY_FEED, 15_000_000)
    await write(client, feeds.backup, BACKUP_FEED, 15_450_000)  # +3%

    tripped = await refresh(client, feeds, with_backup=True)

    (event,) = client.events(tripped.logs)
    assert (event.name, event.data.divergence_bps) == ("CircuitBreakerTripped", 300)
    current = await state(client)
    assert current.breaker_tripped and current.required == before.required
    await expect_failure("CircuitBreakerTripped", refresh(client, feeds))
    reset_by_admin = client.reset_circuit_breaker_ix(roles.admin.pubkey())
    await expect_failure("Unauthorized", client.send([reset_by_admin], [roles.admin]))

    await client.send([client.reset_circuit_breaker_ix(roles.guardian.pubkey())], [roles.guardian])
    assert not (await state(client)).breaker_tripped


async def _holder(client: Aistm7Client, roles: Roles, deployment: Deployment, amount: int) -> tuple[Pubkey, Pubkey]:
    wallet = Keypair().pubkey()
    return wallet, await token_account(client, roles.admin, deployment.mint, wallet, amount)


async def test_verify_access_writes_a_pass_and_returns_the_result(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    required = (await state(client)).effective(await client.cluster_time())
    assert required is not None
    short_wallet, short_account = await _holder(client, roles, deployment, required - 1)
    wallet, account = await _holder(client, roles, deployment, required)
    payer = client.payer.pubkey()

    with pytest.raises(ProgramFailure) as raised:
        await client.send([client.verify_access_ix(payer, short_wallet, [short_account])])
    assert raised.value.name == "InsufficientBalance"
    assert any(f"have {required - 1} need {required}" in line for line in raised.value.logs)
    assert await client.fetch_access_pass(short_wallet) is None

    result = await client.send([client.verify_access_ix(payer, wallet, [account])])

    found = await client.fetch_access_pass(wallet)
    assert found is not None
    assert (found.data.wallet, found.data.balance, found.data.required) == (wallet, required, required)
    assert result.return_data is not None
    returned_wallet = Pubkey.from_bytes(result.return_data[:32])
    balance, needed, valid_until = struct.unpack("<QQq", result.return_data[32:56])
    assert (returned_wallet, balance, needed, valid_until) == (wallet, required, required, found.data.valid_until)
    assert client.events(result.logs)[0].name == "AccessVerified"


async def test_the_emergency_override_is_admin_only_and_applies_until_cleared(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    required = (await state(client)).effective(await client.cluster_time())
    assert required is not None
    wallet, account = await _holder(client, roles, deployment, required)
    strict = RequirementOverride(amount=required * 2, expires_at=await client.cluster_time() + 3_600)
    verify = client.verify_access_ix(client.payer.pubkey(), wallet, [account])

    await expect_failure("Unauthorized", client.send([client.set_requirement_override_ix(roles.guardian.pubkey(), strict)], [roles.guardian]))
    await client.send([client.set_requirement_override_ix(roles.admin.pubkey(), strict)], [roles.admin])
    await expect_failure("InsufficientBalance", client.send([verify]))
    await client.send([client.set_requirement_override_ix(roles.admin.pubkey(), None)], [roles.admin])

    assert (await state(client)).emergency_override is None
    await client.send([verify])


async def test_the_guardian_pauses_verify_and_refresh(
    client: Aistm7Client, deployment: Deployment, feeds: Feeds, roles: Roles
) -> None:
    required = (await state(client)).effective(await client.cluster_time())
    assert required is not None
    wallet, account = await _holder(client, roles, deployment, required)
    verify = client.verify_access_ix(client.payer.pubkey(), wallet, [account])

    await expect_failure("Unauthorized", client.send([client.set_paused_ix(roles.admin.pubkey(), True)], [roles.admin]))
    paused = await client.send([client.set_paused_ix(roles.guardian.pubkey(), True)], [roles.guardian])
    try:
        assert client.events(paused.logs)[0].data.new is True
        await expect_failure("Paused", client.send([verify]))
        await expect_failure("Paused", refresh(client, feeds))
    finally:
        await client.send([client.set_paused_ix(roles.guardian.pubkey(), False)], [roles.guardian])
    await client.send([verify])


async def test_requirement_params_are_admin_only_and_checked(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    before = (await client.fetch_config()).data.requirement_params  # type: ignore[union-attr]

    await expect_failure("Unauthorized", client.send([client.set_requirement_params_ix(roles.guardian.pubkey(), min_tokens=50)], [roles.guardian]))
    await expect_failure("InvalidParameter", client.send([client.set_requirement_params_ix(roles.admin.pubkey(), min_tokens=20_000)], [roles.admin]))
    await expect_failure("InvalidParameter", client.send([client.set_oracle_params_ix(roles.admin.pubkey(), backup_feed_id=PRIMARY_FEED)], [roles.admin]))
    assert (await client.fetch_config()).data.requirement_params == before  # type: ignore[union-attr]

    changed = await client.send([client.set_requirement_params_ix(roles.admin.pubkey(), pass_validity_secs=7_200)], [roles.admin])
    (event,) = client.events(changed.logs)
    assert (event.data.old.pass_validity_secs, event.data.new.pass_validity_secs) == (3_600, 7_200)
    await client.send([client.set_requirement_params_ix(roles.admin.pubkey(), pass_validity_secs=3_600)], [roles.admin])


async def test_requirement_show_prints_the_effective_requirement(
    rpc_url: str, client: Aistm7Client, deployment: Deployment
) -> None:
    current = await state(client)

    shown = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "aistm7"), "requirement", "show", "--rpc-url", rpc_url, "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )

    data = json.loads(shown.stdout)
    assert data["effective_units"] == current.required
    assert data["price"] == current.price and data["source"] == current.source
    assert data["price_age_secs"] == data["cluster_time"] - current.publish_time
    assert data["set_by"] == "price"


async def test_the_refresh_job_sends_only_when_the_program_would_apply(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    from keeper.jobs.cranks import PriceAccounts, refresh_requirement

    prices = PriceAccounts(feeds.primary.pubkey())
    advance(rpc_url, 61)
    await write(client, feeds.primary, PRIMARY_FEED, 20_000_000)
    applied = await refresh_requirement(client, prices)
    assert applied.txs == 1 and (await state(client)).price == 20_000_000
    advance(rpc_url, 61)
    signatures = len((await client.connection.get_signatures_for_address(deployment.config)).value)

    await write(client, feeds.primary, PRIMARY_FEED, 20_100_000)  # +0.5%
    skipped = await refresh_requirement(client, prices)

    assert skipped.txs == 0
    assert (await state(client)).price == 20_000_000
    assert len((await client.connection.get_signatures_for_address(deployment.config)).value) == signatures
    await write(client, feeds.primary, PRIMARY_FEED, 20_200_000)  # +1%
    assert (await refresh_requirement(client, prices)).txs == 1
    assert (await state(client)).price == 20_200_000


async def test_price_alerts_fire_on_a_five_percent_move_only(client: Aistm7Client, feeds: Feeds) -> None:
    from aiohttp import web

    from keeper.jobs.price_alerts import PriceAlerts
    from tests.conftest import _free_port

    received: list[dict[str, object]] = []

    async def sink(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", sink)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    alerts = PriceAlerts(feeds.primary.pubkey(), webhook_url=f"http://127.0.0.1:{port}/alerts")
    try:
        await write(client, feeds.primary, PRIMARY_FEED, 20_000_000)
        await alerts.run(client)  # first sight: the baseline
        await write(client, feeds.primary, PRIMARY_FEED, 20_900_000)  # +4.5%
        await alerts.run(client)
        assert received == []
        await write(client, feeds.primary, PRIMARY_FEED, 21_000_000)  # +5%
        await alerts.run(client)
    finally:
        await runner.cleanup()

    assert received == [{"alerts": [{"kind": "price", "price": 21_000_000, "expo": -8, "moved_bps": 500}]}]
