"""Deploy the aistm7 state on a cluster: create the token mint and initialize
the config. Idempotent: a second run changes nothing and says so.

    python migrations/deploy.py --rpc-url http://127.0.0.1:8899 --state-dir DIR [--faucet FILE]
        [--primary-feed-id HEX] [--backup-feed-id HEX] [--unlock-cooldown-secs N]
        [--name NAME] [--symbol SYMBOL] [--decimals N] [--initial-supply-tokens N] [--local-quote]

The deployer keypair is DIR/deployer.json (created when missing, funded from
the faucet keypair on local validators) and holds every role but the guardian,
whose keypair is DIR/guardian.json (the program refuses one key for both); the
mint keypair is DIR/mint.json. Without --backup-feed-id no backup feed is
configured, so the refresh crank needs only the primary price account.
The mint has --decimals decimals (default 8, 2 to 9): the default fees, max
supply and initial supply are whole tokens at those decimals (below 2 the
0.05-token fee is not a whole number of base units). --initial-supply-tokens
below the max supply leaves the admin room to mint (the local market's
seller is minted its tokens so).
With --local-quote, a local USD stablecoin (DIR/quote-mint.json, 6 decimals)
is created, the buy-order treasury set up on it and its vault funded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.system_program import TransferParams, transfer
from spl.token.constants import MINT_LEN

from keeper import addresses
from keeper.client import Aistm7Client
from keeper.config import DEFAULT_RPC_URL
from keeper.deploy import (
    LOCALNET_FEED_ID,
    LOCALNET_USD_ZAR_FEED_ID,
    deploy,
    deploy_buyback,
    load_or_create_keypair,
)
from keeper.state import (
    DEFAULT_DECIMALS,
    MAX_DECIMALS,
    MAX_SUPPLY_TOKENS,
    MIN_DECIMALS,
    NO_FEED,
    BuybackParams,
    OracleParams,
    RequirementParams,
    TokenInfo,
    check_decimals,
)
from keeper.token import create_mint_ixs, mint_to_ix

LOCAL_QUOTE_DECIMALS = 6
LOCAL_QUOTE_FUNDS = 1_000_000 * 10**LOCAL_QUOTE_DECIMALS

DEPLOYER_LAMPORTS = 100 * 10**9


async def local_quote(client: Aistm7Client, state_dir: Path, token_feed_id: bytes) -> None:
    """A local USD stablecoin, the buy-order treasury on it (its orders priced
    by the token feed `token_feed_id`), and quote to spend."""
    quote = load_or_create_keypair(state_dir / "quote-mint.json")
    payer = client.payer.pubkey()
    if (await client.connection.get_account_info(quote.pubkey(), Confirmed)).value is None:
        rent = (await client.connection.get_minimum_balance_for_rent_exemption(MINT_LEN)).value
        await client.send(create_mint_ixs(payer, quote.pubkey(), payer, LOCAL_QUOTE_DECIMALS, rent), [quote])
    params = BuybackParams(token_feed_id=token_feed_id, usd_zar_feed_id=LOCALNET_USD_ZAR_FEED_ID)
    if await deploy_buyback(client, client.payer, quote.pubkey(), params, [payer]):
        await client.send([mint_to_ix(quote.pubkey(), addresses.quote_vault_pda(), payer, LOCAL_QUOTE_FUNDS)])
        logger.info("funded the quote vault with {} local quote units", LOCAL_QUOTE_FUNDS)


def decimals_arg(text: str) -> int:
    """--decimals: an integer `check_decimals` accepts (argparse reports the reason)."""
    try:
        decimals = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    try:
        check_decimals(decimals)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return decimals


async def main(
    rpc_url: str,
    state_dir: Path,
    faucet_path: Path | None,
    oracle: OracleParams,
    requirement: RequirementParams,
    info: TokenInfo,
    decimals: int,
    with_quote: bool,
    initial_supply_tokens: int | None = None,
) -> None:
    deployer = load_or_create_keypair(state_dir / "deployer.json")
    guardian = load_or_create_keypair(state_dir / "guardian.json")
    mint = load_or_create_keypair(state_dir / "mint.json")
    if faucet_path is not None:
        faucet = load_or_create_keypair(faucet_path)
        funder = Aistm7Client.connect(rpc_url, faucet)
        try:
            balance = (await funder.connection.get_balance(deployer.pubkey(), Confirmed)).value
            if balance < DEPLOYER_LAMPORTS // 2:
                ix = transfer(TransferParams(from_pubkey=faucet.pubkey(), to_pubkey=deployer.pubkey(), lamports=DEPLOYER_LAMPORTS))
                await funder.send([ix])
                logger.info("funded deployer {} from the faucet", deployer.pubkey())
        finally:
            await funder.close()
    client = Aistm7Client.connect(rpc_url, deployer)
    try:
        result = await deploy(
            client,
            mint,
            oracle,
            guardian=guardian.pubkey(),
            requirement_params=requirement,
            token_info=info,
            decimals=decimals,
            initial_supply=None if initial_supply_tokens is None else initial_supply_tokens * 10**decimals,
        )
        if with_quote:
            await local_quote(client, state_dir, oracle.primary_feed_id)
    finally:
        await client.close()
    logger.info("deployment: mint {} config {}", result.mint, result.config)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", default=os.environ.get("AISTM7_RPC_URL", DEFAULT_RPC_URL))
    parser.add_argument("--state-dir", type=Path, required=True, help="where the deployer and mint keypairs live")
    parser.add_argument("--faucet", type=Path, help="keypair that funds the deployer (local validators)")
    parser.add_argument(
        "--primary-feed-id", type=bytes.fromhex, default=LOCALNET_FEED_ID, help="Pyth feed id (hex) pricing the token"
    )
    parser.add_argument("--backup-feed-id", type=bytes.fromhex, default=NO_FEED, help="optional second feed id (hex)")
    parser.add_argument(
        "--unlock-cooldown-secs",
        type=int,
        default=RequirementParams.unlock_cooldown_secs,
        help="seconds between request_unlock and withdraw_unlocked (at least the pass validity)",
    )
    parser.add_argument("--name", default=TokenInfo.name, help="token name (at most 32 bytes)")
    parser.add_argument("--symbol", default=TokenInfo.symbol, help="token symbol (at most 10 bytes)")
    parser.add_argument(
        "--decimals",
        type=decimals_arg,
        default=DEFAULT_DECIMALS,
        help=f"token mint decimals, {MIN_DECIMALS} to {MAX_DECIMALS} (default {DEFAULT_DECIMALS})",
    )
    parser.add_argument("--local-quote", action="store_true", help="create a local quote stablecoin and the treasury")
    parser.add_argument(
        "--initial-supply-tokens",
        type=int,
        help=f"whole tokens minted to the treasury (default the max supply, {MAX_SUPPLY_TOKENS:,}); "
        "less leaves room for the admin to mint, e.g. the local market's seller",
    )
    args = parser.parse_args()
    oracle = OracleParams(primary_feed_id=args.primary_feed_id, backup_feed_id=args.backup_feed_id)
    requirement = RequirementParams(unlock_cooldown_secs=args.unlock_cooldown_secs)
    info = TokenInfo(name=args.name, symbol=args.symbol)
    asyncio.run(
        main(
            args.rpc_url, args.state_dir, args.faucet, oracle, requirement, info, args.decimals, args.local_quote,
            args.initial_supply_tokens,
        )
    )
