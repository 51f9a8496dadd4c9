"""Access backed by locked tokens over JSON-RPC and through `aistm7 access`:
lock, verify, unlock, the cooldown, withdraw. The module pins the requirement
with an emergency override (cleared at the end), so it does not depend on a
price having been applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import AsyncIterator

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import Deployment
from keeper.state import TOKEN, RequirementOverride
from tests.conftest import SOL, Roles, advance, airdrop, aistm7, balance, expect_failure, token_account

REQUIRED = 100 * TOKEN
COOLDOWN = 86_400


async def total_locked(client: Aistm7Client) -> int:
    return (await client.fetch_config()).data.total_locked  # type: ignore[union-attr]


@pytest.fixture
async def pinned(client: Aistm7Client, deployment: Deployment, roles: Roles) -> AsyncIterator[int]:
    """The requirement pinned at REQUIRED by an override for the test."""
    override = RequirementOverride(REQUIRED, await client.cluster_time() + 30 * 86_400)
    await client.send([client.set_requirement_override_ix(roles.admin.pubkey(), override)], [roles.admin])
    yield REQUIRED
    await client.send([client.set_requirement_override_ix(roles.admin.pubkey(), None)], [roles.admin])


async def holder(client: Aistm7Client, roles: Roles, deployment: Deployment, amount: int) -> tuple[Keypair, Pubkey]:
    """A funded wallet and its token account holding `amount`."""
    wallet = Keypair()
    await airdrop(client, wallet.pubkey(), SOL)
    return wallet, await token_account(client, roles.admin, deployment.mint, wallet.pubkey(), amount)


async def test_lock_and_unlock_requests_are_refused_by_name(
    client: Aistm7Client, deployment: Deployment, roles: Roles, pinned: int
) -> None:
    wallet, account = await holder(client, roles, deployment, 2 * REQUIRED)
    _, someone_elses = await holder(client, roles, deployment, REQUIRED)
    w, mint = wallet.pubkey(), deployment.mint
    before = await total_locked(client)

    def send(*ixs: object) -> object:
        return client.send(list(ixs), [wallet])  # type: ignore[arg-type]

    await expect_failure("ZeroAmount", send(client.lock_tokens_ix(w, mint, account, 0)))
    await expect_failure("WrongTokenOwner", send(client.lock_tokens_ix(w, mint, someone_elses, REQUIRED)))
    await expect_failure("AccountNotInitialized", send(client.request_unlock_ix(w, 1)))
    await send(client.lock_tokens_ix(w, mint, account, REQUIRED))  # type: ignore[misc]
    await expect_failure("InsufficientLocked", send(client.request_unlock_ix(w, REQUIRED + 1)))
    await expect_failure("ZeroAmount", send(client.request_unlock_ix(w, 0)))
    await expect_failure("NothingToUnlock", send(client.withdraw_unlocked_ix(w, mint, account)))
    await send(client.request_unlock_ix(w, 1))  # type: ignore[misc]
    await expect_failure("UnlockCooldownActive", send(client.withdraw_unlocked_ix(w, mint, account)))
    await expect_failure("WrongTokenOwner", send(client.withdraw_unlocked_ix(w, mint, someone_elses)))

    lock = (await client.fetch_access_lock(w)).data  # type: ignore[union-attr]
    assert (lock.locked, lock.unlocking) == (REQUIRED - 1, 1)
    assert await balance(client, account) == REQUIRED and await balance(client, someone_elses) == REQUIRED
    assert await total_locked(client) == before + REQUIRED


async def test_lock_verify_unlock_wait_withdraw(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles, pinned: int
) -> None:
    wallet, account = await holder(client, roles, deployment, 3 * REQUIRED)
    w, mint = wallet.pubkey(), deployment.mint
    vault = addresses.lock_vault_pda(mint)
    vault_before, total_before = await balance(client, vault), await total_locked(client)
    verify = client.verify_access_ix(w)
    await expect_failure("InsufficientBalance", client.send([verify]))

    locked = await client.send([client.lock_tokens_ix(w, mint, account, 2 * REQUIRED)], [wallet])
    (event,) = client.events(locked.logs)
    assert (event.name, event.data.amount, event.data.locked) == ("TokensLocked", 2 * REQUIRED, 2 * REQUIRED)
    assert (await balance(client, account), await balance(client, vault)) == (REQUIRED, vault_before + 2 * REQUIRED)
    assert await total_locked(client) == total_before + 2 * REQUIRED
    verified = client.events((await client.send([verify])).logs)[0]
    assert (verified.data.locked, verified.data.required) == (2 * REQUIRED, REQUIRED)

    # Unlocking tokens stop counting at once.
    requested = await client.send([client.request_unlock_ix(w, REQUIRED + 1)], [wallet])
    (event,) = client.events(requested.logs)
    unlock_at = event.data.unlock_at
    assert (event.data.locked, event.data.unlocking) == (REQUIRED - 1, REQUIRED + 1)
    assert unlock_at - await client.cluster_time() in range(COOLDOWN - 5, COOLDOWN + 1)
    await expect_failure("InsufficientBalance", client.send([verify]))
    advance(rpc_url, COOLDOWN // 2)
    await expect_failure("UnlockCooldownActive", client.send([client.withdraw_unlocked_ix(w, mint, account)], [wallet]))
    advance(rpc_url, COOLDOWN // 2 + 1)

    withdrawn = await client.send([client.withdraw_unlocked_ix(w, mint, account)], [wallet])

    (event,) = client.events(withdrawn.logs)
    assert (event.name, event.data.amount, event.data.closed) == ("TokensUnlocked", REQUIRED + 1, False)
    assert await balance(client, account) == 2 * REQUIRED + 1
    lock = (await client.fetch_access_lock(w)).data  # type: ignore[union-attr]
    assert (lock.locked, lock.unlocking) == (REQUIRED - 1, 0)
    assert await total_locked(client) == total_before + REQUIRED - 1

    # Emptying the lock closes it and returns its rent.
    await client.send([client.request_unlock_ix(w, REQUIRED - 1)], [wallet])
    advance(rpc_url, COOLDOWN)
    rent = (await client.connection.get_balance(addresses.lock_pda(w))).value
    lamports = (await client.connection.get_balance(w)).value
    closed = await client.send([client.withdraw_unlocked_ix(w, mint, account)], [wallet])
    assert client.events(closed.logs)[0].data.closed is True
    assert await client.fetch_access_lock(w) is None
    assert (await client.connection.get_balance(w)).value == lamports + rent
    assert (await balance(client, account), await balance(client, vault)) == (3 * REQUIRED, vault_before)
    assert await total_locked(client) == total_before


async def test_a_pause_stops_locks_unlocks_and_wallet_links(
    client: Aistm7Client, deployment: Deployment, roles: Roles, pinned: int
) -> None:
    wallet, account = await holder(client, roles, deployment, REQUIRED)
    w, mint = wallet.pubkey(), deployment.mint
    await client.send([client.lock_tokens_ix(w, mint, account, REQUIRED // 2)], [wallet])
    await client.send([client.set_paused_ix(roles.guardian.pubkey(), True)], [roles.guardian])
    try:
        for ix in (
            client.lock_tokens_ix(w, mint, account, 1),
            client.request_unlock_ix(w, 1),
            client.withdraw_unlocked_ix(w, mint, account),
            client.connect_wallet_ix(w, bytes([7]) * 32),
        ):
            await expect_failure("Paused", client.send([ix], [wallet]))
    finally:
        await client.send([client.set_paused_ix(roles.guardian.pubkey(), False)], [roles.guardian])
    lock = (await client.fetch_access_lock(w)).data  # type: ignore[union-attr]
    assert (lock.locked, lock.unlocking) == (REQUIRED // 2, 0)
    assert await balance(client, account) == REQUIRED // 2
    assert await client.fetch_wallet_link(w) is None


async def test_a_wallet_cannot_unlink_while_its_lock_backs_access(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles, pinned: int
) -> None:
    wallet, account = await holder(client, roles, deployment, REQUIRED)
    w = wallet.pubkey()
    await client.send([client.connect_wallet_ix(w, bytes([9]) * 32)], [wallet])
    await client.send([client.lock_tokens_ix(w, deployment.mint, account, REQUIRED)], [wallet])
    unlink = client.disconnect_wallet_ix(w)

    await expect_failure("WalletHasLockedTokens", client.send([unlink], [wallet]))
    await client.send([client.request_unlock_ix(w, REQUIRED)], [wallet])
    # Results the lock backed stay valid until the cooldown ends.
    await expect_failure("WalletHasLockedTokens", client.send([unlink], [wallet]))
    advance(rpc_url, COOLDOWN)

    await client.send([unlink], [wallet])

    assert await client.fetch_wallet_link(w) is None
    lock = (await client.fetch_access_lock(w)).data  # type: ignore[union-attr]
    assert (lock.locked, lock.unlocking) == (0, REQUIRED)


async def test_the_access_commands_lock_show_unlock_and_withdraw(
    rpc_url: str, client: Aistm7Client, deployment: Deployment, roles: Roles, pinned: int, tmp_path: Path
) -> None:
    wallet, account = await holder(client, roles, deployment, 150 * TOKEN)
    keyfile = tmp_path / "wallet.json"
    keyfile.write_text(json.dumps(list(bytes(wallet))))
    signed = ("--rpc-url", rpc_url, "--keypair", str(keyfile))

    def show() -> dict[str, object]:
        done = aistm7("access", "show", str(wallet.pubkey()), "--rpc-url", rpc_url, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    assert aistm7("access", "lock", "0.000000001", *signed).returncode == 2
    refused = aistm7("access", "unlock", "1", *signed)
    assert refused.returncode == 1 and "AccountNotInitialized" in refused.stderr
    before = show()
    assert (before["locked_units"], before["has_access"], before["required_units"]) == (0, False, REQUIRED)

    locked = aistm7("access", "lock", "120.5", *signed)
    assert locked.returncode == 0, locked.stderr
    assert f"from {account}" in locked.stdout and "120.5 locked now" in locked.stdout
    shown = show()
    assert (shown["locked_units"], shown["locked_tokens"], shown["has_access"]) == (12_050_000_000, "120.5", True)
    assert (shown["unlocking_units"], shown["unlock_at"], shown["required_tokens"]) == (0, None, "100")
    too_much = aistm7("access", "unlock", "121", *signed)
    assert too_much.returncode == 1 and "refused by the program: InsufficientLocked" in too_much.stderr

    unlocked = aistm7("access", "unlock", "20.5", *signed)
    assert unlocked.returncode == 0, unlocked.stderr
    shown = show()
    assert (shown["locked_units"], shown["unlocking_units"], shown["withdrawable_units"]) == (100 * TOKEN, 2_050_000_000, 0)
    assert shown["has_access"] is True and isinstance(shown["unlock_at"], int)
    early = aistm7("access", "withdraw", *signed)
    assert early.returncode == 1 and "UnlockCooldownActive" in early.stderr
    advance(rpc_url, COOLDOWN)
    assert show()["withdrawable_units"] == 2_050_000_000

    withdrawn = aistm7("access", "withdraw", *signed)

    assert withdrawn.returncode == 0, withdrawn.stderr
    assert f"withdrew 20.5 tokens to {account}" in withdrawn.stdout
    assert await balance(client, account) == 50 * TOKEN
    shown = show()
    assert (shown["locked_units"], shown["unlocking_units"], shown["unlock_at"]) == (100 * TOKEN, 0, None)
    text = aistm7("access", "show", str(wallet.pubkey()), "--rpc-url", rpc_url)
    assert "has_access" in text.stdout and "True" in text.stdout


def test_access_help_explains_the_cooldown() -> None:
    done = aistm7("access", "--help")
    assert done.returncode == 0
    assert "cooldown" in done.stdout and "lock" in done.stdout and "withdraw" in done.stdout
