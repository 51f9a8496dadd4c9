"""The access requirement over JSON-RPC: pricing rows, guard rails, the
backup feed, breaker, override, pause and verify_access. Tests share the
session's deployment (primary and backup feed configured) and leave it
unpaused, unoverridden and with the breaker reset."""

from __future__ import annotations

import json
import struct
import subprocess
from dataclasses import dataclass

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from keeper.client import Aistm7Client, TxResult
from keeper.deploy import Deployment
from keeper.errors import ProgramFailure
from keeper.state import RequirementOverride, RequirementState
from tests.conftest import BACKUP_FEED, PRIMARY_FEED, ROOT, SOL, Roles, advance, airdrop, expect_failure, token_account

TOKEN = 10**8


@dataclass(frozen=True)
class Feeds:
    primary: Keypair
    backup: Keypair


@pytest.fixture(scope="module")
def feeds() -> Feeds:
    return Feeds(Keypair(), Keypair())


async def write(
    client: Aistm7Client, account: Keypair, feed: bytes, price: int, age: int = 0, now: int | None = None, **kw: int
) -> None:
    """Publish `price` `age` seconds before `now` (the cluster's time unless given)."""
    now = await client.cluster_time() if now is None else now
    ix = client.write_price_ix(client.payer.pubkey(), account.pubkey(), feed, price, now - age, **kw)
    await client.send([ix], [account])


async def prices(client: Aistm7Client, feeds: Feeds, price: int, backup: int | None = None, **primary: int) -> None:
    """Write the primary feed at `price` (with `primary`'s changes: age, conf,
    ...) and the backup feed fresh at `backup`, by default the same price."""
    await write(client, feeds.primary, PRIMARY_FEED, price, **primary)
    await write(client, feeds.backup, BACKUP_FEED, price if backup is None else backup)


async def refresh(client: Aistm7Client, feeds: Feeds) -> TxResult:
    """refresh_requirement with both price accounts: a backup feed is
    configured, so the program requires its account."""
    return await client.send([client.refresh_requirement_ix(feeds.primary.pubkey(), feeds.backup.pubkey())])


async def state(client: Aistm7Client) -> RequirementState:
    found = await client.fetch_config()
    assert found is not None
    return found.data.requirement


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
        # A stale backup cannot stand in: the primary's own failure is the answer.
        await write(client, feeds.backup, BACKUP_FEED, 15_000_000, age=600)
        await write(client, feeds.primary, feed, price, **case)  # type: ignore[arg-type]
        await expect_failure(name, refresh(client, feeds))
        assert (await state(client)).required == 0, name

    not_a_price = client.refresh_requirement_ix(client.payer.pubkey(), feeds.backup.pubkey())
    await expect_failure("WrongPriceOwner", client.send([not_a_price]))
    assert (await state(client)).required == 0


async def test_a_configured_backup_feed_must_be_passed_and_be_that_feed(
    client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    await write(client, feeds.primary, PRIMARY_FEED, 15_000_000)
    primary = feeds.primary.pubkey()

    await expect_failure("MissingBackupPrice", client.send([client.refresh_requirement_ix(primary)]))
    await expect_failure("DuplicatePriceAccount", client.send([client.refresh_requirement_ix(primary, primary)]))
    # An identity failure of the backup is an error even with a good primary.
    await write(client, feeds.backup, PRIMARY_FEED, 15_000_000)
    await expect_failure("WrongFeedId", client.send([client.refresh_requirement_ix(primary, feeds.backup.pubkey())]))

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
    await prices(client, feeds, price)

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
    await prices(client, feeds, 15_000_000)
    await refresh(client, feeds)
    advance(rpc_url, 61)

    await prices(client, feeds, 15_148_500)  # +0.99%
    await expect_failure("BelowUpdateThreshold", refresh(client, feeds))
    assert (await state(client)).price == 15_000_000

    await prices(client, feeds, 15_150_000)  # +1.00%
    await refresh(client, feeds)
    assert (await state(client)).price == 15_150_000

    # And the interval: a big move right after an update waits.
    await prices(client, feeds, 10_000_000)
    await expect_failure("UpdateTooSoon", refresh(client, feeds))
    assert (await state(client)).price == 15_150_000


async def test_the_backup_prices_alone_within_the_divergence_limit(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    last = (await state(client)).price
    assert last == 15_150_000
    advance(rpc_url, 61)
    # An unusable primary (too wide a band) and a backup 6% away: no feed checks it.
    await prices(client, feeds, 15_000_000, backup=14_200_000, conf=300_001)
    await expect_failure("LoneFeedDiverges", refresh(client, feeds))
    await prices(client, feeds, 15_000_000, backup=14_900_000, conf=300_001)  # -1.65%

    result = await refresh(client, feeds)

    current = await state(client)
    assert (current.price, current.required, current.source) == (14_900_000, 10_067_114_094, "Backup")
    assert bytes(client.events(result.logs)[0].data.feed) == BACKUP_FEED
    # Neither feed may go back to an update older than the one just used.
    await write(client, feeds.primary, PRIMARY_FEED, 14_900_000, age=30)
    await expect_failure("PriceOlderThanLastUsed", refresh(client, feeds))


async def test_two_usable_feeds_are_compared_only_when_published_together(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds
) -> None:
    advance(rpc_url, 61)
    # One reference time for both: each send takes a slot, which would close the gap.
    now = await client.cluster_time()
    await write(client, feeds.primary, PRIMARY_FEED, 15_000_000, now=now)
    await write(client, feeds.backup, BACKUP_FEED, 15_000_000, age=11, now=now)

    await expect_failure("FeedsOutOfSync", refresh(client, feeds))
    assert (await state(client)).price == 14_900_000


async def test_diverging_feeds_trip_the_breaker_until_the_guardian_resets_it(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, feeds: Feeds, roles: Roles
) -> None:
    advance(rpc_url, 61)
    before = await state(client)
    await prices(client, feeds, 15_000_000, backup=15_450_000)  # +3%

    tripped = await refresh(client, feeds)

    (event,) = client.events(tripped.logs)
    assert (event.name, event.data.divergence_bps) == ("CircuitBreakerTripped", 300)
    current = await state(client)
    assert current.breaker_tripped and current.required == before.required
    await expect_failure("CircuitBreakerTripped", refresh(client, feeds))
    reset_by_admin = client.reset_circuit_breaker_ix(roles.admin.pubkey())
    await expect_failure("Unauthorized", client.send([reset_by_admin], [roles.admin]))

    await client.send([client.reset_circuit_breaker_ix(roles.guardian.pubkey())], [roles.guardian])
    assert not (await state(client)).breaker_tripped


async def _locker(client: Aistm7Client, roles: Roles, deployment: Deployment, held: int, locked: int) -> Keypair:
    """A new wallet holding `held` tokens, `locked` of them locked."""
    wallet = Keypair()
    await airdrop(client, wallet.pubkey(), SOL)
    account = await token_account(client, roles.admin, deployment.mint, wallet.pubkey(), held)
    if locked:
        await client.send([client.lock_tokens_ix(wallet.pubkey(), deployment.mint, account, locked)], [wallet])
    return wallet


async def test_verify_access_counts_locked_tokens_only_and_returns_the_result(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    required = (await state(client)).effective(await client.cluster_time())
    assert required is not None
    holder = await _locker(client, roles, deployment, held=required, locked=0)
    short = await _locker(client, roles, deployment, held=required, locked=required - 1)
    wallet = await _locker(client, roles, deployment, held=required, locked=required)

    for refused, have in ((holder, 0), (short, required - 1)):
        with pytest.raises(ProgramFailure) as raised:
            await client.send([client.verify_access_ix(refused.pubkey())])
        assert raised.value.name == "InsufficientBalance"
        assert any(f"have {have} need {required}" in line for line in raised.value.logs)

    result = await client.send([client.verify_access_ix(wallet.pubkey())])

    assert result.return_data is not None
    returned_wallet = Pubkey.from_bytes(result.return_data[:32])
    locked, needed, valid_until = struct.unpack("<QQq", result.return_data[32:56])
    (event,) = client.events(result.logs)
    assert event.name == "AccessVerified"
    assert (returned_wallet, locked, needed) == (wallet.pubkey(), required, required)
    assert (event.data.wallet, event.data.locked, event.data.required, event.data.valid_until) == (
        wallet.pubkey(), required, required, valid_until
    )
    assert 0 <= await client.cluster_time() - (valid_until - 3_600) <= 5
    lock = await client.fetch_access_lock(wallet.pubkey())
    assert lock is not None and (lock.data.locked, lock.data.unlocking) == (required, 0)


async def test_the_emergency_override_is_admin_only_and_applies_until_cleared(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    required = (await state(client)).effective(await client.cluster_time())
    assert required is not None
    wallet = await _locker(client, roles, deployment, held=required, locked=required)
    strict = RequirementOverride(amount=required * 2, expires_at=await client.cluster_time() + 3_600)
    verify = client.verify_access_ix(wallet.pubkey())

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
    wallet = await _locker(client, roles, deployment, held=required, locked=required)
    verify = client.verify_access_ix(wallet.pubkey())

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

    # A pass never outlives the cooldown of the tokens it counted.
    longer = client.set_requirement_params_ix(roles.admin.pubkey(), pass_validity_secs=before.unlock_cooldown_secs + 1)
    await expect_failure("InvalidParameter", client.send([longer], [roles.admin]))
    assert (await client.fetch_config()).data.requirement_params == before  # type: ignore[union-attr]
    shorter = client.set_requirement_params_ix(roles.admin.pubkey(), unlock_cooldown_secs=before.pass_validity_secs - 1)
    await expect_failure("InvalidParameter", client.send([shorter], [roles.admin]))
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

    without_backup = PriceAccounts(feeds.primary.pubkey())
    both = PriceAccounts(feeds.primary.pubkey(), backup=feeds.backup.pubkey())
    advance(rpc_url, 61)
    await prices(client, feeds, 20_000_000)
    with pytest.raises(ValueError, match="--backup-price"):
        await refresh_requirement(client, without_backup)
    assert (await state(client)).price != 20_000_000
    applied = await refresh_requirement(client, both)
    assert applied.txs == 1 and (await state(client)).price == 20_000_000
    advance(rpc_url, 61)
    signatures = len((await client.connection.get_signatures_for_address(deployment.config)).value)

    await prices(client, feeds, 20_100_000)  # +0.5%
    skipped = await refresh_requirement(client, both)

    assert skipped.txs == 0
    assert (await state(client)).price == 20_000_000
    assert len((await client.connection.get_signatures_for_address(deployment.config)).value) == signatures
    await prices(client, feeds, 20_200_000)  # +1%
    assert (await refresh_requirement(client, both)).txs == 1
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
