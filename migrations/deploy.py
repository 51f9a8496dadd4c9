"""Deploy the aistm7 state on a cluster: create the token mint and initialize
the config. Idempotent: a second run changes nothing and says so.

    python migrations/deploy.py --rpc-url http://127.0.0.1:8899 --state-dir DIR [--faucet FILE]
        [--primary-feed-id HEX] [--backup-feed-id HEX]

The deployer keypair is DIR/deployer.json (created when missing, funded from
the faucet keypair on local validators); the mint keypair is DIR/mint.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from loguru import logger
from solana.rpc.commitment import Confirmed
from solders.system_program import TransferParams, transfer

from keeper.client import Aistm7Client
from keeper.config import DEFAULT_RPC_URL
from keeper.deploy import LOCALNET_FEED_ID, deploy, load_or_create_keypair
from keeper.state import NO_FEED, OracleParams

DEPLOYER_LAMPORTS = 100 * 10**9


async def main(rpc_url: str, state_dir: Path, faucet_path: Path | None, oracle: OracleParams) -> None:
    deployer = load_or_create_keypair(state_dir / "deployer.json")
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
        result = await deploy(client, mint, oracle)
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
    args = parser.parse_args()
    oracle = OracleParams(primary_feed_id=args.primary_feed_id, backup_feed_id=args.backup_feed_id)
    asyncio.run(main(args.rpc_url, args.state_dir, args.faucet, oracle))
