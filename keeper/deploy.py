"""Bring a cluster to a deployed state: the token mint and an initialized
config. Idempotent: with a config already on chain it changes nothing and says so."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from spl.token.constants import MINT_LEN

from spl.token._layouts import MINT_LAYOUT

from keeper import addresses
from keeper.client import Aistm7Client, TxResult
from keeper.state import (
    DEFAULT_DECIMALS,
    MAX_SUPPLY_TOKENS,
    Authorities,
    BuybackParams,
    OracleParams,
    RequirementParams,
    TokenInfo,
    TokenParams,
    check_decimals,
    default_services,
    token_units,
)
from keeper.token import create_mint_ixs, mint_to_ix, set_mint_authority_ix

# The price feed local validators use (written there by mock_pyth); on a real
# cluster pass the Pyth feed ids of the token.
LOCALNET_FEED_ID = hashlib.sha256(b"aistm7 localnet AISTM7/USD").digest()
LOCALNET_USD_ZAR_FEED_ID = hashlib.sha256(b"aistm7 localnet USD/ZAR").digest()


@dataclass(frozen=True)
class Deployment:
    mint: Pubkey
    config: Pubkey
    authorities: Authorities
    initialize: TxResult | None
    """The initialize transaction, when this run sent it."""


def load_keypair(path: Path) -> Keypair:
    """A keypair file in the solana-keygen JSON format (a list of 64 bytes)."""
    try:
        return Keypair.from_bytes(bytes(json.loads(path.read_text())))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read keypair {path}: {exc}") from exc


def load_or_create_keypair(path: Path) -> Keypair:
    """`load_keypair`, creating the file when missing."""
    if path.exists():
        return load_keypair(path)
    keypair = Keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(bytes(keypair))))
    path.chmod(0o600)
    return keypair


INITIAL_SUPPLY_TOKENS = MAX_SUPPLY_TOKENS
"""Deploy mints the whole default max supply to the treasury."""


@dataclass(frozen=True)
class _MintState:
    supply: int
    decimals: int
    authority: Pubkey | None


async def _mint_state(client: Aistm7Client, mint: Pubkey) -> _MintState | None:
    """Supply, decimals and mint authority of `mint`, or None when it does not exist."""
    account = (await client.connection.get_account_info(mint, Confirmed)).value
    if account is None:
        return None
    parsed = MINT_LAYOUT.parse(bytes(account.data))
    authority = Pubkey(parsed.mint_authority) if parsed.mint_authority_option else None
    return _MintState(parsed.supply, parsed.decimals, authority)


async def deploy(
    client: Aistm7Client,
    mint_keypair: Keypair,
    oracle_params: OracleParams,
    authorities: Authorities | None = None,
    admin: Keypair | None = None,
    guardian: Pubkey | None = None,
    requirement_params: RequirementParams = RequirementParams(),
    token_params: TokenParams | None = None,
    token_info: TokenInfo = TokenInfo(),
    initial_supply: int | None = None,
    decimals: int = DEFAULT_DECIMALS,
) -> Deployment:
    """Bring the cluster to a deployed state, doing only the missing steps:
    create the mint with `decimals` (the payer its authority), initialize the
    config with `authorities` (default: the payer holds every role but the
    guardian, which is `guardian`: the program refuses an admin that is also
    the guardian) and `token_params` (default: `TokenParams.for_decimals`),
    create the fee schedule with the default services (signed by `admin`,
    default the payer), mint `initial_supply` (default: 1,000,000,000 tokens)
    to the treasury and hand the mint authority to the program's PDA.

    Every default is in whole tokens, so `decimals` must be one
    `check_decimals` accepts (ValueError otherwise, before anything is sent);
    an existing mint or config with other decimals is refused the same way."""
    check_decimals(decimals)
    log = logger.bind(job="deploy")
    payer = client.payer.pubkey()
    admin_signer = admin or client.payer
    steps = 0
    initialize: TxResult | None = None

    existing = await client.fetch_config()
    if existing is None:
        mint = mint_keypair.pubkey()
        found = await _mint_state(client, mint)
        if found is None:
            rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
            await client.send(create_mint_ixs(payer, mint, payer, decimals, rent), [mint_keypair])
            log.info("created mint {} ({} decimals)", mint, decimals)
        elif found.decimals != decimals:
            raise ValueError(f"the mint {mint} exists with {found.decimals} decimals, not {decimals}")
        if authorities is not None:
            roles = authorities
        elif guardian is not None:
            roles = Authorities.all_but_guardian(payer, guardian)
        else:
            raise ValueError("initializing needs the authorities or at least a guardian key other than the payer")
        params = token_params or TokenParams.for_decimals(decimals)
        ix = client.initialize_ix(payer, mint, roles, oracle_params, requirement_params, params, token_info)
        initialize = await client.send([ix])
        log.info("initialized config {} in {}", client.config_address(), initialize.signature)
        steps += 1
    else:
        mint, roles = existing.data.mint, existing.data.authorities
        if existing.data.mint_decimals != decimals:
            raise ValueError(f"the deployed mint {mint} has {existing.data.mint_decimals} decimals, not {decimals}")
    if admin_signer.pubkey() != roles.admin:
        raise ValueError(f"the admin signer {admin_signer.pubkey()} is not the config's admin {roles.admin}")

    schedule = await client.fetch_fee_schedule()
    if schedule is None:
        await client.send([client.initialize_fee_schedule_ix(roles.admin)], [admin_signer])
        log.info("created the fee schedule {}", addresses.fee_schedule_pda(client.program_id))
        steps += 1
    present = set() if schedule is None else {service.name for service in schedule.data}
    for name, cost in default_services(decimals).items():
        if name not in present:
            await client.send([client.set_service_fee_ix(roles.admin, name, cost=cost)], [admin_signer])
            log.info("added service {} at {} base units", name, cost)
            steps += 1

    state = await _mint_state(client, mint)
    assert state is not None
    supply, mint_authority = state.supply, state.authority
    if initial_supply is None:
        initial_supply = INITIAL_SUPPLY_TOKENS * token_units(decimals)
    treasury = addresses.treasury_pda(mint, client.program_id)
    if supply == 0 and initial_supply and mint_authority == payer:
        await client.send([mint_to_ix(mint, treasury, payer, initial_supply)])
        log.info("minted the initial supply of {} base units to the treasury {}", initial_supply, treasury)
        steps += 1
    program_authority = addresses.mint_authority_pda(client.program_id)
    if mint_authority == payer:
        await client.send([set_mint_authority_ix(mint, payer, program_authority)])
        log.info("handed the mint authority to the program ({})", program_authority)
        steps += 1

    if steps == 0:
        log.info("config {} (mint {}) already deployed: nothing to do", client.config_address(), mint)
    return Deployment(mint, client.config_address(), roles, initialize)


async def deploy_buyback(
    client: Aistm7Client, admin: Keypair, quote_mint: Pubkey, params: BuybackParams, council: list[Pubkey]
) -> bool:
    """Create the buy-order treasury for `quote_mint` unless it exists; True when created."""
    log = logger.bind(job="deploy")
    existing = await client.fetch_buyback()
    if existing is not None:
        log.info("buy-order treasury exists (quote mint {})", existing.data.quote_mint)
        return False
    await client.send([client.initialize_buyback_ix(admin.pubkey(), quote_mint, params, council)], [admin])
    log.info("created the buy-order treasury, quote vault {}", addresses.quote_vault_pda(client.program_id))
    return True
