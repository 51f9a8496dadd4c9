"""deposit_treasury: an SPL Token transfer by CPI, an event and return data."""

from __future__ import annotations

import struct

import pytest
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from spl.token.constants import ACCOUNT_LEN

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.deploy import Deployment
from keeper.errors import ProgramFailure
from keeper.token import create_mint_ixs, create_token_account_ixs, mint_to_ix
from tests.conftest import Roles, token_account


async def _balance(client: Aistm7Client, account) -> int:
    return int((await client.connection.get_token_account_balance(account, Confirmed)).value.amount)


async def test_deposit_of_another_mint_fails_wrong_mint(client: Aistm7Client, deployment: Deployment) -> None:
    funder = Keypair()
    other_mint = Keypair()
    rent = (await client.connection.get_minimum_balance_for_rent_exemption(82)).value
    payer = client.payer.pubkey()
    account = Keypair()
    account_rent = (await client.connection.get_minimum_balance_for_rent_exemption(ACCOUNT_LEN)).value
    await client.send(
        [
            *create_mint_ixs(payer, other_mint.pubkey(), payer, 8, rent),
            *create_token_account_ixs(payer, account.pubkey(), other_mint.pubkey(), funder.pubkey(), account_rent),
            mint_to_ix(other_mint.pubkey(), account.pubkey(), payer, 1_000),
        ],
        [other_mint, account],
    )
    foreign = account.pubkey()
    vault = addresses.treasury_pda(deployment.mint)
    before = await _balance(client, vault)

    with pytest.raises(ProgramFailure) as raised:
        await client.send([client.deposit_treasury_ix(funder.pubkey(), deployment.mint, foreign, 10)], [funder])

    assert raised.value.name == "WrongMint"
    assert await _balance(client, foreign) == 1_000
    assert await _balance(client, vault) == before


async def test_deposit_moves_tokens_by_cpi_and_returns_the_vault_balance(
    client: Aistm7Client, deployment: Deployment, roles: Roles
) -> None:
    funder = Keypair()
    source = await token_account(client, roles.admin, deployment.mint, funder.pubkey(), 50 * 10**8)
    vault = addresses.treasury_pda(deployment.mint)
    before = await _balance(client, vault)

    result = await client.send([client.deposit_treasury_ix(funder.pubkey(), deployment.mint, source, 10_000_000)], [funder])

    assert await _balance(client, source) == 50 * 10**8 - 10_000_000
    assert await _balance(client, vault) == before + 10_000_000
    assert f"Program {addresses.TOKEN_PROGRAM_ID} invoke [2]" in result.logs
    assert result.return_data is not None
    assert struct.unpack("<Q", result.return_data)[0] == before + 10_000_000
    (event,) = client.events(result.logs)
    assert event.name == "TreasuryDeposited"
    assert (event.data.funder, event.data.amount, event.data.balance) == (funder.pubkey(), 10_000_000, before + 10_000_000)
