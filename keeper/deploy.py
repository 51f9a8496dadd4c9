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

from keeper.client import Aistm7Client, TxResult
from keeper.state import Authorities, OracleParams, RequirementParams
from keeper.token import create_mint_ixs

DEFAULT_DECIMALS = 8
# The price feed local validators use (written there by mock_pyth); on a real
# cluster pass the Pyth feed ids of the token.
LOCALNET_FEED_ID = hashlib.sha256(b"aistm7 localnet AISTM7/USD").digest()


@dataclass(frozen=True)
class Deployment:
    mint: Pubkey
    config: Pubkey
    authorities: Authorities
    initialize: TxResult | None
    """The initialize transaction, when this run sent it."""


def load_or_create_keypair(path: Path) -> Keypair:
    """A keypair file in the solana-keygen JSON format, created when missing."""
    if path.exists():
        return Keypair.from_bytes(bytes(json.loads(path.read_text())))
    keypair = Keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(list(bytes(keypair))))
    path.chmod(0o600)
    return keypair


async def deploy(
    client: Aistm7Client,
    mint_keypair: Keypair,
    oracle_params: OracleParams,
    authorities: Authorities | None = None,
    requirement_params: RequirementParams = RequirementParams(),
    decimals: int = DEFAULT_DECIMALS,
) -> Deployment:
    """Create the mint (the payer is its authority) unless it exists, then
    initialize the config with `authorities` (default: the payer holds every
    role), the oracle feeds and the requirement parameters."""
    log = logger.bind(job="deploy")
    payer = client.payer.pubkey()
    existing = await client.fetch_config()
    if existing is not None:
        config = existing.data
        log.info("config {} already initialized (mint {}): nothing to do", client.config_address(), config.mint)
        return Deployment(config.mint, client.config_address(), config.authorities, None)

    mint = mint_keypair.pubkey()
    if (await client.connection.get_account_info(mint, Confirmed)).value is None:
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
        await client.send(create_mint_ixs(payer, mint, payer, decimals, rent), [mint_keypair])
        log.info("created mint {} ({} decimals)", mint, decimals)
    else:
        log.info("mint {} exists", mint)

    roles = authorities or Authorities.all(payer)
    result = await client.send([client.initialize_ix(payer, mint, roles, oracle_params, requirement_params)])
    log.info("initialized config {} in {}", client.config_address(), result.signature)
    return Deployment(mint, client.config_address(), roles, result)
