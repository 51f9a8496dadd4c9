"""Fees, rewards, minting and wallet links over JSON-RPC, and deploy's idempotency."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from loguru import logger
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import Deployment, deploy
from keeper.state import DEFAULT_SERVICES, TOKEN, TokenParams
from keeper.token import approve_ix
from tests.conftest import (
    INITIAL_SUPPLY, ROOT, SOL, Roles, advance, airdrop, aistm7, balance, expect_failure, launch_validator, token_account,
)


async def test_deploying_again_changes_nothing_and_says_so(
    client: Aistm7Client, deployment: Deployment, roles: Roles, mint_keypair: Keypair
) -> None:
    supply_before = (await client.connection.get_token_supply(deployment.mint)).value.amount
    messages: list[str] = []
    sink = logger.add(lambda message: messages.append(str(message)), level="INFO")
    try:
        again = await deploy(client, mint_keypair, (await client.fetch_config()).data.oracle_params, admin=roles.admin)  # type: ignore[union-attr]
    finally:
        logger.remove(sink)

    assert again.initialize is None and again.mint == deployment.mint
    assert any("nothing to do" in message for message in messages)
    assert (await client.connection.get_token_supply(deployment.mint)).value.amount == supply_before
    assert int(supply_before) >= INITIAL_SUPPLY
    assert await balance(client, addresses.treasury_pda(deployment.mint)) >= INITIAL_SUPPLY
    mint_info = (await client.connection.get_account_info(deployment.mint)).value
    assert mint_info is not None and bytes(mint_info.data)[4:36] == bytes(addresses.mint_authority_pda())


async def test_each_default_fee_moves_exactly_its_cost(client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    user = Keypair()
    _fund_user = await token_account(client, roles.admin, deployment.mint, user.pubkey(), 10 * TOKEN)
    treasury = addresses.treasury_pda(deployment.mint)
    before = {service.name: service for service in (await client.fetch_fee_schedule()).data}  # type: ignore[union-attr]

    for name, cost in DEFAULT_SERVICES.items():
        user_before, treasury_before = await balance(client, _fund_user), await balance(client, treasury)
        result = await client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, _fund_user, name)], [user])
        assert await balance(client, _fund_user) == user_before - cost
        assert await balance(client, treasury) == treasury_before + cost
        (event,) = client.events(result.logs)
        assert (event.name, event.data.service, event.data.amount, event.data.payer) == ("FeePaid", name, cost, user.pubkey())

    after = {service.name: service for service in (await client.fetch_fee_schedule()).data}  # type: ignore[union-attr]
    for name, cost in DEFAULT_SERVICES.items():
        assert (after[name].count - before[name].count, after[name].total - before[name].total) == (1, cost)


async def test_payments_with_the_wrong_accounts_or_window_are_refused(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    user = Keypair()
    own = await token_account(client, roles.admin, deployment.mint, user.pubkey(), TOKEN)
    someone_elses = await token_account(client, roles.admin, deployment.mint, Keypair().pubkey(), TOKEN)
    now = await client.cluster_time()
    window = client.set_service_fee_ix(roles.admin.pubkey(), "window", cost=TOKEN // 10, valid_from=now + 100, valid_to=now + 200)
    await client.send([window], [roles.admin])

    await expect_failure("WrongTokenOwner", client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, someone_elses, "search")], [user]))
    await expect_failure("UnknownService", client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, own, "nope")], [user]))
    await expect_failure("ServiceNotYetValid", client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, own, "window")], [user]))
    advance(rpc_url, 100)
    await client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, own, "window")], [user])
    advance(rpc_url, 100)
    await expect_failure("ServiceExpired", client.send([client.pay_service_fee_ix(user.pubkey(), deployment.mint, own, "window")], [user]))
    await expect_failure("Unauthorized", client.send([client.set_service_fee_ix(roles.guardian.pubkey(), "search", cost=1)], [roles.guardian]))

    assert await balance(client, own) == TOKEN - TOKEN // 10
    assert await balance(client, someone_elses) == TOKEN


async def test_the_collector_charges_an_allowance_once_per_request(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    user = Keypair()
    account = await token_account(client, roles.admin, deployment.mint, user.pubkey(), TOKEN)
    await client.send([approve_ix(account, addresses.fee_delegate_pda(), user.pubkey(), 25_000_000)], [user])
    collector = roles.fee_collector

    def charge(request: bytes, signer: Keypair = collector) -> object:
        ix = client.charge_service_fee_ix(signer.pubkey(), deployment.mint, account, "search", request)
        return client.send([ix], [signer])

    first = await charge(b"\x01" * 32)  # type: ignore[misc]
    await expect_failure("DuplicateRequest", charge(b"\x01" * 32))
    await charge(b"\x02" * 32)  # type: ignore[misc]
    await expect_failure("AllowanceTooSmall", charge(b"\x03" * 32))
    await expect_failure("Unauthorized", charge(b"\x04" * 32, roles.admin))

    assert await balance(client, account) == TOKEN - 2 * (TOKEN // 10)
    (event,) = client.events(first.logs)  # type: ignore[attr-defined]
    assert (bytes(event.data.request_id), event.data.charged_by) == (b"\x01" * 32, collector.pubkey())


async def test_charge_receipts_close_after_the_retention_and_refund_the_collector(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    user = Keypair()
    account = await token_account(client, roles.admin, deployment.mint, user.pubkey(), TOKEN)
    await client.send([approve_ix(account, addresses.fee_delegate_pda(), user.pubkey(), TOKEN)], [user])
    request = b"\x21" * 32
    charge = client.charge_service_fee_ix(roles.fee_collector.pubkey(), deployment.mint, account, "search", request)
    await client.send([charge], [roles.fee_collector])
    receipt = addresses.charge_receipt_pda(request)

    def close(payer: Pubkey = roles.fee_collector.pubkey()) -> object:
        return client.send([client.close_charge_receipt_ix(request, payer)])

    await expect_failure("RetentionNotElapsed", close())
    advance(rpc_url, 7 * 86_400)
    await expect_failure("WrongRentRecipient", close(roles.admin.pubkey()))
    rent = (await client.connection.get_balance(receipt)).value
    before = (await client.connection.get_balance(roles.fee_collector.pubkey())).value

    closed = await close()  # type: ignore[misc]

    assert (await client.connection.get_account_info(receipt)).value is None
    assert (await client.connection.get_balance(roles.fee_collector.pubkey())).value == before + rent
    (event,) = client.events(closed.logs)  # type: ignore[attr-defined]
    assert (event.name, event.data.account, event.data.rent_recipient) == ("AccountClosed", receipt, roles.fee_collector.pubkey())


async def test_rewards_stop_at_the_daily_cap(rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles) -> None:
    now = await client.cluster_time()
    advance(rpc_url, 86_400 - now % 86_400 + 10)  # early in a fresh UTC day
    await client.send([client.set_token_params_ix(roles.admin.pubkey(), reward_daily_cap=100 * TOKEN)], [roles.admin])
    admin_tokens = await token_account(client, roles.admin, deployment.mint, roles.admin.pubkey(), 500 * TOKEN)
    await client.send([client.fund_rewards_ix(roles.admin.pubkey(), deployment.mint, admin_tokens, 500 * TOKEN)], [roles.admin])
    user = await token_account(client, roles.admin, deployment.mint, Keypair().pubkey(), 0)

    def reward(amount: int, signer: Keypair = roles.rewarder) -> object:
        ix = client.distribute_reward_ix(signer.pubkey(), deployment.mint, user, 1, amount)
        return client.send([ix], [signer])

    await expect_failure("Unauthorized", reward(TOKEN, roles.admin))
    await reward(60 * TOKEN)  # type: ignore[misc]
    await reward(40 * TOKEN)  # type: ignore[misc]
    await expect_failure("RewardCapExceeded", reward(1))

    assert await balance(client, user) == 100 * TOKEN
    config = (await client.fetch_config()).data  # type: ignore[union-attr]
    assert config.rewards.paid_today == 100 * TOKEN


async def test_a_wallet_links_to_one_user_at_a_time(rpc_url: str, client: Aistm7Client, tmp_path: Path) -> None:
    wallet = Keypair()
    await airdrop(client, wallet.pubkey(), SOL)
    keyfile = tmp_path / "wallet.json"
    keyfile.write_text(json.dumps(list(bytes(wallet))))

    linked = aistm7("wallet", "link", "user-42", "--rpc-url", rpc_url, "--keypair", str(keyfile))
    assert linked.returncode == 0, linked.stderr
    found = await client.fetch_wallet_link(wallet.pubkey())
    assert found is not None and found.data.user_ref == hashlib.sha256(b"user-42").digest()
    again = aistm7("wallet", "link", "user-43", "--rpc-url", rpc_url, "--keypair", str(keyfile))
    assert again.returncode == 1 and "WalletAlreadyLinked" in again.stderr

    unlinked = aistm7("wallet", "unlink", "--rpc-url", rpc_url, "--keypair", str(keyfile))
    assert unlinked.returncode == 0, unlinked.stderr
    assert await client.fetch_wallet_link(wallet.pubkey()) is None
    await client.send([client.connect_wallet_ix(wallet.pubkey(), hashlib.sha256(b"user-43").digest())], [wallet])


def test_fees_list_shows_the_schedule_and_counters(rpc_url: str, deployment: Deployment) -> None:
    shown = aistm7("fees", "list", "--rpc-url", rpc_url, "--json")

    assert shown.returncode == 0, shown.stderr
    rows = {row["name"]: row for row in json.loads(shown.stdout)}
    for name, cost in DEFAULT_SERVICES.items():
        assert rows[name]["cost_units"] == cost
    assert rows["search"]["cost_tokens"] == "0.1" and rows["notification"]["cost_tokens"] == "0.05"


async def test_deploy_prices_its_defaults_in_whole_tokens_at_the_mint_decimals(xprocess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def migrate(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "migrations/deploy.py", "--state-dir", str(tmp_path / "state"), *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)

    refused = {value: migrate("--decimals", value) for value in ("1", "10", "six")}
    for done in refused.values():
        assert done.returncode == 2 and "error: argument --decimals:" in done.stderr, done.stderr
    assert "1 decimals is not in 2..9: below 2 a default fee (0.05 token) is not a whole number" in refused["1"].stderr
    assert "10 decimals is not in 2..9" in refused["10"].stderr and "'six' is not an integer" in refused["six"].stderr
    assert not (tmp_path / "state").exists()

    ledger = tmp_path / "ledger"
    rpc_url = launch_validator(xprocess, "localnet-decimals", ledger)
    try:
        done = migrate("--rpc-url", rpc_url, "--faucet", str(ledger / "faucet-keypair.json"), "--decimals", "6")
        assert done.returncode == 0, done.stderr
        client = Aistm7Client.connect(rpc_url, Keypair())
        try:
            config = (await client.fetch_config()).data  # type: ignore[union-attr]
            schedule = (await client.fetch_fee_schedule()).data  # type: ignore[union-attr]
            supply = (await client.connection.get_token_supply(config.mint)).value
            treasury = await balance(client, addresses.treasury_pda(config.mint))
        finally:
            await client.close()
    finally:
        xprocess.getinfo("localnet-decimals").terminate()

    costs = {service.name: service.terms.cost for service in schedule}
    assert costs == {"search": 100_000, "goal": 1_000_000, "analysis": 500_000, "notification": 50_000}
    assert config.mint_decimals == 6 and (supply.decimals, int(supply.amount)) == (6, 10**15)
    assert treasury == 10**15
    assert config.token_params == TokenParams(max_supply=10**15, reward_daily_cap=10**10)
